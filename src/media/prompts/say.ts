// SayDigits / SayNumber as lists of prompt names, with English number
// grammar ("one hundred twenty three", "two thousand five", "minus seven").

export function sayDigitsPrompts(digits: string): string[] {
  const out: string[] = [];
  for (const ch of digits) {
    if (ch >= '0' && ch <= '9') out.push(`digits/${ch}`);
    else if (ch === '*') out.push('digits/star');
    else if (ch === '#') out.push('digits/pound');
  }
  return out;
}

function below1000(n: number, out: string[]): void {
  if (n >= 100) {
    out.push(`digits/${Math.floor(n / 100)}`, 'digits/hundred');
    n %= 100;
  }
  if (n === 0) return;
  if (n <= 20) out.push(`digits/${n}`);
  else {
    out.push(`digits/${Math.floor(n / 10) * 10}`);
    if (n % 10) out.push(`digits/${n % 10}`);
  }
}

export function sayNumberPrompts(value: number): string[] {
  if (!Number.isFinite(value)) return [];
  let n = Math.trunc(value);
  const out: string[] = [];
  if (n < 0) {
    out.push('digits/minus');
    n = -n;
  }
  if (n === 0) return [...out, 'digits/0'];
  const millions = Math.floor(n / 1_000_000);
  const thousands = Math.floor((n % 1_000_000) / 1000);
  const rest = n % 1000;
  if (millions) {
    below1000(millions, out);
    out.push('digits/million');
  }
  if (thousands) {
    below1000(thousands, out);
    out.push('digits/thousand');
  }
  below1000(rest, out);
  return out;
}
