import { affine, type Tensor } from "../core/index.js";
import { type DropoutSetting, dropIn } from "./brnn.js";

/**
 * Region vectors in the multimodal space (section 3.1.1): v = Wm CNN(I_b) + bm, one row per
 * region. `cnn` holds the (normalised) CNN codes of every region, rows stacked image by image.
 * Dropout acts on the CNN codes, the layer's input.
 */
export function embedRegions(Wm: Tensor, bm: Tensor, cnn: Tensor, drop: DropoutSetting): Tensor {
  return affine(dropIn(cnn, drop), Wm, bm);
}
