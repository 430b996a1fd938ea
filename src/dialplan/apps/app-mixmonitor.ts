// MixMonitor(file.wav[,options[,command]]) — record both directions of the
// call, mixed, until the call ends or StopMixMonitor(). The post-recording
// command of Asterisk is not supported (it would run a program); it is
// logged and ignored. Sets MIXMONITOR_FILENAME.
import type { DialplanApp } from '../app-types.js';
import { recordingPath } from './record-path.js';

export const appMixMonitor: DialplanApp = {
  name: 'MixMonitor',
  synopsis: 'MixMonitor(file.wav[,options]): record the whole call',
  placesNoCall: true,
  async run(call, args) {
    const path = recordingPath(call.recordingsDir, args[0] ?? '');
    if (!path || !/\.wav$/i.test(path)) {
      call.log.warn('dialplan.mixmonitor_path', { file: (args[0] ?? '').slice(0, 128), expected: 'a .wav name without ".."' });
      return;
    }
    if ((args[2] ?? '').trim() !== '') call.log.warn('dialplan.mixmonitor_command_ignored', { reason: 'running a command after recording is not supported' });
    call.media.startMixMonitor(path);
    call.vars.set('MIXMONITOR_FILENAME', path);
  },
};

export const appStopMixMonitor: DialplanApp = {
  name: 'StopMixMonitor',
  synopsis: 'StopMixMonitor(): stop the recording MixMonitor started',
  placesNoCall: true,
  async run(call) {
    call.media.stopMixMonitor();
  },
};
