/**
 * The one engine of the package, over the backend the export conditions chose. The iron
 * API and the session engine share it, and with it every cache.
 */
import { cryptoBackend } from '#crypto-backend';
import { createIron, type Iron } from './create-iron.js';

export const iron: Iron = createIron(cryptoBackend);
