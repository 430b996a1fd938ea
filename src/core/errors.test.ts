// Every error class of src/ extends PalisadeError and carries its stable
// code; the messages are what they were before the base existed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, PalisadeError } from './errors.js';
import { CidrSet } from './cidr.js';
import { ConfigError } from '../config/config-error.js';
import { ExpressionError } from '../dialplan/expression.js';
import { SrtpError } from '../media/srtp/srtp-legs.js';
import { SdpParseError } from '../media/sdp/parse-sdp.js';
import { SdpRewriteError } from '../media/sdp/rewrite-for-relay.js';
import { GsmFormatError } from '../media/codecs/codec-gsm.js';
import { PromptNotFoundError } from '../media/prompts/prompt-store.js';
import { PortExhaustedError } from '../media/rtp/port-allocator.js';
import { RtpRelayError } from '../media/rtp/relay-session.js';
import { MediaNegotiationError } from '../media/media-sdp.js';
import { WavFormatError } from '../media/player/wav-file.js';
import { SipParseError } from '../sip-message/errors.js';
import { StorageError } from '../storage/database.js';
import { UsageError } from '../admin/cli-args.js';
import { controlRequest } from '../admin/control-socket.js';

test('each error class has its stable PAL_ERR_ code, its own name, and its message unchanged', () => {
  const cause = new Error('disk full');
  const cases: Array<[PalisadeError, string, string, string]> = [
    [new ConfigError([{ file: 'palisade.yaml', line: 3, col: 5, message: 'bad' }]), 'PAL_ERR_CONFIG', 'ConfigError', 'palisade.yaml:3:5: bad'],
    [new ExpressionError('unbalanced ('), 'PAL_ERR_DIALPLAN_EXPRESSION', 'ExpressionError', 'unbalanced ('],
    [new SrtpError('no a=crypto'), 'PAL_ERR_SRTP_OFFER', 'SrtpError', 'no a=crypto'],
    [new SdpParseError('bad m=', 4), 'PAL_ERR_SDP_PARSE', 'SdpParseError', 'bad m= (SDP line 4)'],
    [new SdpRewriteError('no audio'), 'PAL_ERR_SDP_REWRITE', 'SdpRewriteError', 'no audio'],
    [new GsmFormatError('short frame'), 'PAL_ERR_GSM_FRAME', 'GsmFormatError', 'short frame'],
    [new PromptNotFoundError('prompt "x" not found'), 'PAL_ERR_PROMPT_NOT_FOUND', 'PromptNotFoundError', 'prompt "x" not found'],
    [new PortExhaustedError(10000, 10003), 'PAL_ERR_RTP_PORTS_EXHAUSTED', 'PortExhaustedError', 'no free RTP port pair left in 10000-10003'],
    [new RtpRelayError('PAL_ERR_RTP_BIND', 'cannot bind'), 'PAL_ERR_RTP_BIND', 'RtpRelayError', 'cannot bind'],
    [new MediaNegotiationError('no codec'), 'PAL_ERR_MEDIA_NEGOTIATION', 'MediaNegotiationError', 'no codec'],
    [new WavFormatError('x.wav: no data chunk'), 'PAL_ERR_WAV_FORMAT', 'WavFormatError', 'x.wav: no data chunk'],
    [new SipParseError('bad Via', 'via'), 'PAL_ERR_SIP_PARSE', 'SipParseError', 'bad Via'],
    [new StorageError('cannot open', { cause }), 'PAL_ERR_STORAGE', 'StorageError', 'cannot open'],
    [new UsageError('unknown option --x', 'usage: palisade x\n'), 'PAL_ERR_USAGE', 'UsageError', 'unknown option --x'],
  ];
  for (const [err, code, name, message] of cases) {
    assert.ok(err instanceof PalisadeError, name);
    assert.ok(err instanceof Error, name);
    assert.equal(err.code, code, name);
    assert.equal(err.name, name);
    assert.equal(err.message, message, name);
    assert.ok(code in ERROR_CODES, `${code} is in the catalogue`);
  }
  assert.equal(new StorageError('x', { cause }).cause, cause, 'the cause is kept');
  assert.equal(new SipParseError('bad Via', 'via').header, 'via');
});

test('a malformed CIDR and an unreachable control socket carry their codes too', async () => {
  assert.throws(
    () => CidrSet.parse(['10.0.0.0/33']),
    (e: unknown) => e instanceof PalisadeError && e.code === 'PAL_ERR_CIDR',
  );
  await assert.rejects(
    controlRequest('/nonexistent/palisade.sock', 'status', {}, 1000),
    (e: unknown) => e instanceof PalisadeError && e.code === 'PAL_ERR_CONTROL' && /cannot reach Palisade's control socket/.test(e.message),
  );
});
