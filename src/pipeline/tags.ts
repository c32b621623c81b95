/** Writing refs into a layout's index.json (transports/layout-ref.ts). */
export { writeRefs } from '../transports/layout-ref.js';
