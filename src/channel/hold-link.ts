// Hold across a bridge of two technologies' legs (a SIP phone and an IAX2
// trunk, say), where no SIP re-INVITE can cross: each side of the bridge
// says when its own party holds or resumes, and is told when the other
// side's party holds it. What "told" means is the side's technology's
// business: an IAX2 leg passes the hold on to its peer as a HOLD frame
// (or plays music itself, as its configuration says); a SIP phone in such a
// bridge hears music on hold from Palisade until it is resumed, as a phone
// behind Asterisk does.
//
// Two SIP legs are bridged packet by packet instead (dial-bridge.ts), and
// their re-INVITEs cross as they are: this is only for the frame bridges.
import type { FrameSource, MediaEndpoint } from '../media/media-endpoint.js';
import { Player } from '../media/player/player.js';

export interface HoldLink {
  /** set by the bridge: this side's party held the call (true) or resumed it (false), suggesting a music class ('' for none) */
  onHold: ((held: boolean, musicClass: string) => void) | null;
  /** the other side's party held this side (true) or resumed it (false) */
  held(on: boolean, musicClass: string): void;
}

/** the music classes a side can play (src/media/player/music-on-hold.ts) */
export interface HoldMusicSource {
  load(className: string): Int16Array[];
}

/**
 * What a side whose party is held plays it: music of the suggested class
 * when there is such a class, else of `fallback`, instead of what it heard
 * until then (the bridge's frames), which it hears again once resumed.
 */
export function musicWhileHeld(endpoint: MediaEndpoint, moh: HoldMusicSource, fallback = 'default'): (on: boolean, musicClass: string) => void {
  let playing: { player: Player | null; before: FrameSource | null } | null = null;
  return (on, musicClass) => {
    if (on) {
      if (playing) return;
      const suggested = musicClass ? moh.load(musicClass) : [];
      const files = suggested.length > 0 ? suggested : moh.load(fallback);
      const player = files.length > 0 ? new Player(files, true) : null;
      playing = { player, before: endpoint.source };
      // a class with no files: silence rather than the other party's audio
      endpoint.source = player;
      return;
    }
    if (!playing) return;
    const p = playing;
    playing = null;
    p.player?.stop();
    if (endpoint.source === p.player) endpoint.source = p.before;
  };
}

/**
 * Joins two sides' hold for as long as their bridge lasts: a's hold is
 * b's `held`, and b's is a's. The returned function parts them, resuming
 * a side the other still held.
 */
export function joinHold(a: HoldLink | null | undefined, b: HoldLink | null | undefined): () => void {
  if (!a || !b) return () => undefined;
  const holding = { a: false, b: false };
  a.onHold = (on, cls) => {
    holding.a = on;
    b.held(on, cls);
  };
  b.onHold = (on, cls) => {
    holding.b = on;
    a.held(on, cls);
  };
  return () => {
    a.onHold = null;
    b.onHold = null;
    if (holding.a) b.held(false, '');
    if (holding.b) a.held(false, '');
  };
}
