// Hold over IAX2 (src/channel/hold-link.ts): the peer's HOLD and UNHOLD
// frames (or QUELCH with MUSICONHOLD, and UNQUELCH) are this leg's party
// holding and resuming; when the party bridged to this leg holds it, the
// configuration says what the peer gets — as Asterisk's iax.conf does:
//   iax2.mohinterpret: passthrough   a HOLD frame (naming iax2.mohsuggest's
//                                    class, if set); the peer plays its own
//                                    party music, or passes the hold on
//   iax2.mohinterpret: <class>       Palisade plays the peer that class of
//                                    music on hold itself and sends no frame
//                                    (the default: "default"; for peers
//                                    that ignore HOLD, such as iaxmodem)
import type { Iax2Call } from '../../iax2/iax2-call.js';
import { musicWhileHeld, type HoldLink, type HoldMusicSource } from '../../channel/hold-link.js';
import type { MediaEndpoint } from '../../media/media-endpoint.js';
import type { Logger } from '../../observability/logger.js';

export interface Iax2HoldConfig {
  /** 'passthrough', or the music class Palisade plays the peer itself */
  mohinterpret: string;
  /** the class a HOLD frame names when the holding party suggests none ('' for none) */
  mohsuggest: string;
}

export const IAX2_HOLD_DEFAULTS: Iax2HoldConfig = { mohinterpret: 'default', mohsuggest: '' };

/** the hold side of one IAX2 call with its media endpoint; `name` is the channel or leg name for the log */
export function iax2HoldLink(call: Iax2Call, media: MediaEndpoint, moh: HoldMusicSource, cfg: Iax2HoldConfig, log: Logger, name: string): HoldLink {
  const passthrough = cfg.mohinterpret === 'passthrough';
  const music = passthrough ? null : musicWhileHeld(media, moh, cfg.mohinterpret);
  const link: HoldLink = {
    onHold: null,
    held(on, musicClass) {
      const cls = musicClass || cfg.mohsuggest;
      log.info('iax2-hold', { channel: name, held: on, by: 'bridged', how: passthrough ? 'passthrough' : 'music', ...(on && cls ? { class: cls } : {}) });
      if (music) music(on, musicClass);
      else call.hold(on, cls);
    },
  };
  const prev = call.events.hold;
  call.events.hold = (on, musicClass) => {
    prev?.(on, musicClass);
    log.info('iax2-hold', { channel: name, held: on, by: 'peer', ...(musicClass ? { class: musicClass } : {}) });
    link.onHold?.(on, musicClass);
  };
  return link;
}
