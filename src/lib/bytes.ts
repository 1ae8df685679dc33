/** Byte encodings used for keys, secrets, signatures and cursors: one home, so every credential spells them alike. */

const binaryOf = (bytes: Uint8Array): string => {
  // Chunked: spreading a large array into String.fromCharCode would overflow the call stack.
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return binary;
};

export const toBase64 = (bytes: Uint8Array): string => btoa(binaryOf(bytes));

/** Throws on text that is not base64 (atob's DOMException). */
export const fromBase64 = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** URL- and filename-safe base64 without padding (RFC 4648 §5). */
export const toBase64Url = (bytes: Uint8Array): string => toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

export const fromBase64Url = (text: string): Uint8Array<ArrayBuffer> => fromBase64(text.replaceAll("-", "+").replaceAll("_", "/"));

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** `n` random bytes, base64url: the body of a new key or id. */
export const randomBase64Url = (n: number): string => toBase64Url(crypto.getRandomValues(new Uint8Array(n)));
