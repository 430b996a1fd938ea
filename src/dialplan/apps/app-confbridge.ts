// ConfBridge(room[,bridge_profile[,user_profile[,menu]]]) — answer and join
// a conference room; returns when the caller leaves it. Profiles and menus
// are accepted for compatibility and not used.
import type { DialplanApp } from '../app-types.js';

export const appConfBridge: DialplanApp = {
  name: 'ConfBridge',
  synopsis: 'ConfBridge(room): join a conference room',
  placesNoCall: true,
  async run(call, args) {
    const room = (args[0] ?? '').trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(room)) {
      call.log.warn('dialplan.confbridge_room', { room: room.slice(0, 64), expected: 'a room name of letters, digits, _ . -' });
      return;
    }
    if (!call.channel.answered) await call.channel.answer();
    await call.media.confBridge(room);
  },
};
