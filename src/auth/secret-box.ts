import { fromBase64, toBase64 } from "../lib/bytes";

/**
 * Encryption of secrets the API must read back (a project's HS256 signing keys: verifying an HMAC needs the
 * key itself, so a hash would not do). AES-256-GCM under a key derived from JWT_SECRET with HKDF; the
 * additional data binds a ciphertext to its row, so a ciphertext copied to another row does not decrypt.
 * Whoever reads D1 alone learns nothing; rotating JWT_SECRET makes the stored secrets unreadable.
 */
const HKDF_SALT = new TextEncoder().encode("loyalty-events/secret-box");
const IV_BYTES = 12;

const derived = new Map<string, Promise<CryptoKey>>();
function boxKey(rootSecret: string): Promise<CryptoKey> {
  let key = derived.get(rootSecret);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", new TextEncoder().encode(rootSecret), "HKDF", false, ["deriveKey"])
      .then((material) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: new TextEncoder().encode("signing-keys v1") },
          material,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    if (derived.size >= 4) derived.clear(); // one root secret per deployment; a rotation leaves the old one behind
    derived.set(rootSecret, key);
  }
  return key;
}

/** base64 of IV + ciphertext. */
export async function seal(rootSecret: string, plaintext: string, boundTo: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(boundTo) },
    await boxKey(rootSecret),
    new TextEncoder().encode(plaintext),
  );
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return toBase64(out);
}

/** The plaintext, or null when the ciphertext was made under another root secret or for another row. */
export async function open(rootSecret: string, sealed: string, boundTo: string): Promise<string | null> {
  try {
    const bytes = fromBase64(sealed);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: new TextEncoder().encode(boundTo) },
      await boxKey(rootSecret),
      bytes.slice(IV_BYTES),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}
