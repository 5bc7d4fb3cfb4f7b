/**
 * @keybench/server-core: a FIDO U2F relying-party verifier. Silent: it never prints.
 */
export { U2fError, U2F_ERROR, type U2fErrorCode, type U2fErrorDetails } from './errors.js';
export { websafeDecode, websafeEncode } from './base64url.js';
export { LIMITS, CHALLENGE_BOUNDS } from './limits.js';
export { constantTimeEqual } from './bytes.js';
export { checkEcdsaDer } from './der.js';
export { appParam } from './app-param.js';
export { CLIENT_DATA_TYPE, parseClientData, checkClientDataType, decodeClientJson,
  type ClientData,
  type ClientDataType } from './client-data.js';
export { parseRegistrationData, REGISTRATION, type RegistrationData } from './registration-data.js';
export { parseSignatureData, USER_PRESENCE, type SignatureData } from './signature-data.js';
export { verifyRegistrationSignature, verifyAuthenticationSignature, registrationSignedBytes,
  authenticationSignedBytes, type RegistrationSignatureInput,
  type AuthenticationSignatureInput } from './verify.js';
export { type CryptoEngine } from './engine.js';
export { nodeEngine } from './node-engine.js';
export { nobleEngine } from './noble-engine.js';
export { canonicalOrigin, canonicalFacets, checkOrigin, defaultFacets } from './facets.js';
export { MemoryChallengeStore, makeChallenge, CHALLENGE_LENGTH, type ChallengeStore,
  type MemoryChallengeStoreOptions } from './challenge.js';
export { checkCounter, type CounterPolicy, type CounterVerdict } from './counter.js';
export { U2F_V2, CLIENT_ERROR_CODE, type RegisteredKey, type DeviceRegistration,
  type RegisterRequestMessage, type SignRequestMessage, type RegisterResponse, type SignResponse,
  type LegacySignRequest, type LegacyRegisterRequest } from './messages.js';
export { type CeremonyOptions, type TraceHook } from './ceremony.js';
export { beginRegistration, completeRegistration, keyData, type RegistrationOptions,
  type RegistrationResult, type RegistrationCertificate } from './registration.js';
export { beginAuthentication, completeAuthentication, type AuthenticationOptions,
  type AuthenticationResult } from './authentication.js';
export { type AssertionPolicy } from './assertion.js';
export { verifyAppIdAssertion, U2F_AUTHENTICATOR_DATA, type AppIdAssertion,
  type AppIdAssertionOptions } from './webauthn-appid.js';
export { parseAttestationCertificate, type AttestationCertificate } from
  './attestation/certificate.js';
export { fixYubicoCertificate, YUBICO_CERTS_TO_FIX,
  zeroSignatureUnusedBits } from './attestation/yubico-fix.js';
export { TRANSPORTS_EXT_OID, transportsFromExtension,
  transportsFromMask } from './attestation/transports.js';
export { TrustStore, type MetadataEntry, type VendorInfo, type DeviceInfo,
  type TrustAnchor } from './attestation/trust-store.js';
export { verifyAttestation, defaultTrustStore, ATTESTATION_REASON, type AttestationVerdict,
  type AttestationOptions } from './attestation/verify-attestation.js';
export { YUBICO_U2F_ROOT_CA_PEM } from './data/yubico-u2f-root.js';
export { YUBICO_METADATA } from './data/yubico-metadata.js';
export { parseTrustedFacets, checkAppIdFacet, verifyAppIdOrigin, registrableDomain,
  TRUSTED_FACETS_CONTENT_TYPE, FACETS_VERSION, type TrustedFacetsFetcher } from
  './trusted-facets.js';
export { runServerCoreBench, type ServerCoreBenchResult } from './bench.js';
