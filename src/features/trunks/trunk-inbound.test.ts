import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanNumber, dialledNumber } from './trunk-inbound.js';

test('the dialled number: the Request-URI user, or the To user when the Request-URI names a trunk account', () => {
  const account = (u: string) => u === '7300111';
  assert.equal(dialledNumber('4930555000', '4930555000', account), '4930555000');
  assert.equal(dialledNumber('7300111', '4930555000', account), '4930555000', 'a registered trunk: the DID in To');
  assert.equal(dialledNumber('7300111', '', account), '7300111', 'no To user: the account itself');
  assert.equal(dialledNumber('+49-30-555', '', account), '+49', 'cleaned as the route tables read it');
  assert.equal(dialledNumber('', 'sip-user', account), '', 'nothing dialable in either');
  assert.equal(dialledNumber('%2B4930555000', 'x', account), '+4930555000');
  assert.equal(cleanNumber('*78#x'), '*78#');
});
