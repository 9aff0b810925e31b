// Chosen through the package's "#crypto-backend" import on Workers, browsers and others.
export { webBackend as cryptoBackend } from './web.js';
