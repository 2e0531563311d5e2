/** imagesent's library API. */
export { InputError } from "./errors.js";
