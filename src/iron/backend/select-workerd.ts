// Chosen through the package's "#crypto-backend" import on workerd (Cloudflare Workers).
export { workerdBackend as cryptoBackend } from './web.js';
