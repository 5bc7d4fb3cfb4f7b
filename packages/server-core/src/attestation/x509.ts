// reflect-metadata must be loaded before @peculiar/x509 (TOOLCHAIN.md).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
