/** More epochs than any run needs: a larger --epochs is a typo, not a plan. */
export const MAX_EPOCHS = 10_000;
