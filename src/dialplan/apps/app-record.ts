// Record(filename.format[,silence[,maxduration[,options]]]) — record the
// caller to a WAV file (8 kHz mono, the only format written; "wav"/"WAV"
// must be the extension). '%d' in the name is replaced by a number that
// makes it unique. silence: stop after this many seconds of silence;
// maxduration: at most this many seconds (0/empty = 1 hour). Options:
// s (skip when not answered), n (do not answer), q (no beep), x (ignore
// '#'), y (any digit ends the recording). Sets RECORDED_FILE (without the
// extension, as Asterisk) and RECORD_STATUS (DTMF, SILENCE, TIMEOUT, HANGUP, ERROR).
import { existsSync } from 'node:fs';
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';
import { recordingPath } from './record-path.js';

export const appRecord: DialplanApp = {
  name: 'Record',
  synopsis: 'Record(file.wav[,silence[,maxduration[,options]]]): record the caller',
  placesNoCall: true,
  async run(call, args) {
    let name = (args[0] ?? '').trim();
    const dot = name.lastIndexOf('.');
    const format = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
    if (format !== 'wav') {
      call.log.warn('dialplan.record_format', { file: name.slice(0, 128), expected: 'a file name ending in .wav' });
      call.vars.set('RECORD_STATUS', 'ERROR');
      return;
    }
    if (name.includes('%d')) {
      let i = 0;
      while (existsSync(recordingPath(call.recordingsDir, name.replace('%d', String(i))) ?? '') && i < 100000) i++;
      name = name.replace('%d', String(i));
    }
    const path = recordingPath(call.recordingsDir, name);
    if (!path) {
      call.log.warn('dialplan.record_path', { file: name.slice(0, 128), reason: '".." is not allowed in recording names' });
      call.vars.set('RECORD_STATUS', 'ERROR');
      return;
    }
    const silenceMs = secondsToMs(args[1], 0);
    const maxMs = secondsToMs(args[2], 0) || 3_600_000;
    const opts = args[3] ?? '';
    if (!call.channel.answered) {
      if (opts.includes('s')) {
        call.vars.set('RECORD_STATUS', 'ERROR');
        return;
      }
      if (!opts.includes('n')) await call.channel.answer();
    }
    const stopDigits = opts.includes('y') ? '0123456789*#' : opts.includes('x') ? '' : '#';
    const r = await call.media.record({ path, maxMs, silenceMs, stopDigits, beep: !opts.includes('q') });
    call.vars.set('RECORDED_FILE', path.slice(0, -4));
    const status = { digit: 'DTMF', silence: 'SILENCE', max: 'TIMEOUT', hangup: 'HANGUP' }[r.reason];
    call.vars.set('RECORD_STATUS', status);
    if (r.reason === 'hangup') return 'hangup';
  },
};
