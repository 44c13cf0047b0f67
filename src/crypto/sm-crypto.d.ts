/**
 * Minimal types for `sm-crypto` 0.5 (CommonJS, untyped), the reference SM2/SM3/SM4
 * implementation used by the interop tests and the crypto benchmark. Only the
 * calls medchain makes are declared. Hex strings are lower case; SM2 public keys
 * are uncompressed "04…" hex; ciphertexts omit C1's 04 prefix.
 */
declare module 'sm-crypto' {
  type Input = string | Uint8Array | readonly number[];

  interface Sm2KeyPairHex {
    readonly privateKey: string;
    readonly publicKey: string;
  }

  interface Sm2 {
    generateKeyPairHex(): Sm2KeyPairHex;
    getPublicKeyFromPrivateKey(privateKey: string): string;
    /** `msg` as string is UTF-8; `hash: true` computes e = SM3(Z ‖ msg). Returns r‖s hex (or DER). */
    doSignature(
      msg: Input,
      privateKey: string,
      options?: { hash?: boolean; der?: boolean; publicKey?: string; userId?: string },
    ): string;
    doVerifySignature(
      msg: Input,
      signHex: string,
      publicKey: string,
      options?: { hash?: boolean; der?: boolean; userId?: string },
    ): boolean;
    /** cipherMode 1 = C1C3C2 (default), 0 = C1C2C3; C1 without its 04 prefix. */
    doEncrypt(msg: Input, publicKey: string, cipherMode?: 0 | 1): string;
    doDecrypt(
      encryptData: string,
      privateKey: string,
      cipherMode: 0 | 1,
      options: { output: 'array' },
    ): number[];
    doDecrypt(
      encryptData: string,
      privateKey: string,
      cipherMode?: 0 | 1,
      options?: { output?: 'string' },
    ): string;
  }

  /** SM3 hex digest; with `{ key }` (hex or bytes) HMAC-SM3. */
  type Sm3 = (input: Input, options?: { key: Input; mode?: 'hmac' }) => string;

  interface Sm4Options {
    padding?: 'pkcs#7' | 'pkcs#5' | 'none';
    mode?: 'cbc';
    iv?: Input;
  }
  interface Sm4 {
    encrypt(input: Input, key: Input, options: Sm4Options & { output: 'array' }): number[];
    encrypt(input: Input, key: Input, options?: Sm4Options & { output?: 'string' }): string;
    decrypt(input: Input, key: Input, options: Sm4Options & { output: 'array' }): number[];
    decrypt(input: Input, key: Input, options?: Sm4Options & { output?: 'string' }): string;
  }

  const smCrypto: { readonly sm2: Sm2; readonly sm3: Sm3; readonly sm4: Sm4 };
  export default smCrypto;
}
