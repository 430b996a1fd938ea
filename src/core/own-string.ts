// A string of its own. Text taken from a parsed message is, in V8, often a
// slice that keeps the whole message alive: a map key or a stored field cut
// from a REGISTER holds its 600 bytes for as long as it is kept. Slicing a
// fresh concatenation copies just this text (its parent is the copy). Short
// strings (under 13 characters) are copied by V8 already.
export function ownString(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
