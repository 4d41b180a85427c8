/** The programmable receivers live with the local stack (its demo uses them); tests reuse them. */
export * from '../../local/receivers.js';
