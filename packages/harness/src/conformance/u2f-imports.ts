/** The pieces of server-core and hid-transport the cases use, in one place. */
export {
  parseAttestationCertificate,
  parseRegistrationData,
  parseSignatureData,
  verifyAuthenticationSignature,
  verifyRegistrationSignature,
  type SignatureData,
} from '@keybench/server-core';
export { statusWordName as statusWordText } from '@keybench/hid-transport';
