import { YUBICO_U2F_ROOT_CA_PEM } from './yubico-u2f-root.js';

/**
 * Yubico's U2F metadata in the Yubico metadata format, as described in server.md 3.2
 * (python-u2flib-server 5.0.0 `attestation/data.py`, a copy of Yubico's yubico-metadata.json):
 * identifier, version 4, vendor "Yubico", the U2F root CA, five devices with transports USB.
 * Rebuilt here from that description; the selector forms follow the same section.
 */
export const YUBICO_METADATA = Object.freeze({
  identifier: '2fb54029-7613-4f1d-94f1-fb876c14a6fe',
  version: 4,
  vendorInfo: {
    url: 'https://yubico.com',
    imageUrl: 'https://developers.yubico.com/U2F/Images/yubico.png',
    name: 'Yubico',
  },
  trustedCertificates: [YUBICO_U2F_ROOT_CA_PEM],
  devices: [
    device('1.3.6.1.4.1.41482.1.1', 'Security Key by Yubico', true),
    device('1.3.6.1.4.1.41482.1.2', 'YubiKey NEO/NEO-n', true),
    device('1.3.6.1.4.1.41482.1.3', 'YubiKey Plus', true),
    device('1.3.6.1.4.1.41482.1.4', 'YubiKey Edge', false),
    device('1.3.6.1.4.1.41482.1.5', 'YubiKey 4/YubiKey 4 Nano', false),
  ],
});

function device(deviceId: string, displayName: string, keyOnly: boolean) {
  const valueForm = {
    type: 'x509Extension',
    parameters: { key: '1.3.6.1.4.1.41482.2', value: deviceId },
  };
  const keyOnlyForm = { type: 'x509Extension', parameters: { key: deviceId } };
  return {
    deviceId,
    displayName,
    transports: 4,
    selectors: keyOnly ? [keyOnlyForm, valueForm] : [valueForm],
  };
}
