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

#include <stddef.h>

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
/* The direct kernels below compute the same products as im2col + GEMM
 * without the 9x im2col matrix: each sample is copied into a zero-bordered
 * (n+2) x (n+2) scratch `pad` (conv_pad_floats floats) and a register tile
 * of up to a row of output cells by 16 channels reads its taps from there.
 * They need the output channels (Co of the forward, Ci of an input
 * gradient) to be a multiple of 8 (conv_direct_ok); other shapes take
 * im2col + GEMM. Each output entry sums its taps in the GEMM's K order
 * (tap, then input channel), starting from the bias. */
int conv_direct_ok(int out_channels);
size_t conv_pad_floats(int C, int n);
/* out (nb*n*n, Co) = bias (or 0 when NULL) + the convolution of x
 * (nb*n*n, Ci) by wt (9*Ci, Co) (conv_weight_t's layout), then ReLU if relu.
 * With wm (conv_weight_m) and Ci, Co swapped it is the input gradient. */
void conv_direct(float *out, const float *x, const float *wt, const float *bias, float *pad, int nb, int Ci, int Co, int n, int relu);
/* dwt (9*Ci, Co) += sum over the nb samples and their cells of
 * x[cell shifted by tap t, ci] * g[cell, co], per sample in cell order,
 * samples in order: the weight gradient of conv_direct, g (nb*n*n, Co). */
void conv_direct_dw(float *dwt, const float *x, const float *g, float *pad, int nb, int Ci, int Co, int n);
/* wp (hw*C, O) from the dense weight w (C*hw, O) whose rows follow PyTorch's
 * flatten (c*hw + p): wp row p*C + c = w row c*hw + p. */
void conv_flatten_w(float *wp, const float *w, int C, int hw, int O);
/* dw (C*hw, O) += dwp (hw*C, O) through the same map. */
void conv_flatten_dw_add(float *dw, const float *dwp, int C, int hw, int O);
/* out (nb, C*hw) = in (nb*hw, C) in PyTorch's (C, n, n) order per sample. */
void conv_to_nchw(float *out, const float *in, int nb, int C, int hw);

#endif
