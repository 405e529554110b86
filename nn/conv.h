/* conv.h - the kernels of nn.c's 3x3 same-padding convolutions, internal to
 * nn/. Activations are channel-last (NHWC): a batch of B inputs of C
 * channels on an n x n grid is (B*n*n, C), row b*n*n + y*n + x, so a
 * convolution is im2col of whole samples then one GEMM whose output is
 * already the next layer's input, and the last convolution's output is the
 * dense layer's (B, n*n*C) without a copy. Weights stay in PyTorch's layouts
 * in the parameter buffer (conv (Co, Ci, 3, 3), dense rows in (C, n, n)
 * order); the few kilobytes of transposed copies the GEMMs want are built
 * per forward, and gradients are added back through the same maps. Tap
 * t = 3*ky + kx reads the cell (y + ky - 1, x + kx - 1). */
#ifndef EQUIGRID_CONV_H
#define EQUIGRID_CONV_H

/* wt (9*Ci, Co): wt[(t*Ci + ci)*Co + co] = w[(co*Ci + ci)*9 + t]. */
void conv_weight_t(float *wt, const float *w, int Ci, int Co);
/* wm (9*Co, Ci), the transposed convolution's weights (dx = im2col(d) wm):
 * wm[(t*Co + co)*Ci + ci] = w[(co*Ci + ci)*9 + 8 - t]. */
void conv_weight_m(float *wm, const float *w, int Ci, int Co);
/* dw (Co, Ci, 9) += the transposed gradient dwt (9*Ci, Co). */
void conv_weight_t_add(float *dw, const float *dwt, int Ci, int Co);
/* cols (nb*n*n, 9*C): cols[p, t*C + c] = x[p shifted by tap t, c], zero
 * outside the grid, for the nb samples of x (nb*n*n, C). */
void conv_im2col(float *cols, const float *x, int nb, int C, int n);
/* out (n*n, Co) += val * wt[(t*Ci + ci)*Co + :] at every output cell that
 * tap t of the input entry idx = ci*n*n + q reads: a sparse input entry
 * scattered through the 9 taps (in tap order). */
void conv_scatter(float *out, const float *wt, int idx, float val, int Ci, int Co, int n);
/* dwt (9*Ci, Co) += val * d[cell that tap t of entry idx feeds, :] for
 * every tap (in tap order): the weight gradient of one sparse input entry,
 * d (n*n, Co). */
void conv_gather_dw(float *dwt, const float *d, int idx, float val, int Ci, int Co, int n);
/* wp (hw*C, O) from the dense weight w (C*hw, O) whose rows follow PyTorch's
 * flatten (c*hw + p): wp row p*C + c = w row c*hw + p. */
void conv_flatten_w(float *wp, const float *w, int C, int hw, int O);
/* dw (C*hw, O) += dwp (hw*C, O) through the same map. */
void conv_flatten_dw_add(float *dw, const float *dwp, int C, int hw, int O);
/* out (nb, C*hw) = in (nb*hw, C) in PyTorch's (C, n, n) order per sample. */
void conv_to_nchw(float *out, const float *in, int nb, int C, int hw);

#endif
