// Parameters and header fields parsed into plain objects: a name a peer
// chose is written as an own field, so `;__proto__` stays a parameter like
// any other instead of replacing the object's prototype (which `= null`
// would set to nothing, and with it every method the object inherits).

/** `into[name] = value`, with `__proto__` as an ordinary own field */
export function setOwnField<T>(into: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(into, name, { value, enumerable: true, writable: true, configurable: true });
  else into[name] = value;
}
