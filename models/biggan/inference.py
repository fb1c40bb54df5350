"""BigGAN-deep made ready for inference: the package's model with its per-call work baked.

pytorch-pretrained-biggan's forward re-normalises every weight (spectral norm)
and picks batch-norm statistics with Python arithmetic on the truncation value
on every call; a compiled graph would bake that value in and retrace for each
new one. :class:`InferenceBigGAN` does that work once instead:

* spectral normalisation is removed after loading (the weights are divided by
  their singular-value estimate once, exactly as the package's eval forward does);
* the statistics for a truncation are computed by :meth:`set_truncation` into
  fixed buffers that the graph reads, so a new truncation costs one small
  update and never a retrace;
* all conditional batch norms' gain and offset projections run as one matrix
  product, and each batch norm with its ReLU becomes one multiply-add.

Sensitive arithmetic stays in fp32 whatever the activations' precision: the
statistics, the gains and offsets derived from them, and the attention softmax.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 (the usual name)
from torch import nn

from ganterp.models.base import CancelCheck, check_cancel
from ganterp.models.biggan.loading import truncation_blend


def _remove_spectral_norm(model: nn.Module) -> None:
    for module in model.modules():
        if hasattr(module, "weight_orig"):
            nn.utils.remove_spectral_norm(module)


class _Attention(nn.Module):
    """The package's self-attention, with its softmax in fp32."""

    def __init__(self, attn: Any) -> None:
        super().__init__()
        self.theta = attn.snconv1x1_theta
        self.phi = attn.snconv1x1_phi
        self.g = attn.snconv1x1_g
        self.o = attn.snconv1x1_o_conv
        self.gamma = attn.gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, ch, h, w = x.shape
        theta = self.theta(x).view(b, ch // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).view(b, ch // 8, h * w // 4)
        attn = torch.bmm(theta.permute(0, 2, 1), phi)
        attn = torch.softmax(attn.float(), dim=-1).to(x.dtype)
        g = F.max_pool2d(self.g(x), 2).view(b, ch // 2, h * w // 4)
        out = torch.bmm(g, attn.permute(0, 2, 1)).view(b, ch // 2, h, w)
        return x + self.gamma * self.o(out)


class _Block(nn.Module):
    """One GenBlock; its four batch norms read their slices of the shared gains."""

    def __init__(self, block: Any, spans: list[tuple[int, int]]) -> None:
        super().__init__()
        self.convs = nn.ModuleList([block.conv_0, block.conv_1, block.conv_2, block.conv_3])
        self.spans = spans
        self.up_sample = bool(block.up_sample)
        self.drop_channels = bool(block.drop_channels)

    def forward(self, x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x0 = x
        for i, conv in enumerate(self.convs):
            lo, hi = self.spans[i]
            x = torch.relu(x * gain[:, lo:hi, None, None] + bias[:, lo:hi, None, None])
            if i == 1 and self.up_sample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = conv(x)
        if self.drop_channels:
            x0 = x0[:, : x0.shape[1] // 2]
        if self.up_sample:
            x0 = F.interpolate(x0, scale_factor=2, mode="nearest")
        return x + x0


class InferenceBigGAN(nn.Module):
    """BigGAN-deep for inference: same output as the package's model, less work a call.

    Parameters
    ----------
    model : pytorch_pretrained_biggan.BigGAN
        A loaded model (see :func:`ganterp.models.biggan.loading.load_biggan`); its
        modules are taken over and its spectral normalisation removed.

    Notes
    -----
    Call :meth:`set_truncation` before the first forward and whenever the
    truncation changes; ``forward`` reads the statistics it stored.
    """

    @torch.no_grad()
    def __init__(self, model: Any) -> None:
        super().__init__()
        _remove_spectral_norm(model)
        config = model.config
        gen = model.generator
        self.config = config
        self.z_dim = int(config.z_dim)
        self.num_classes = int(config.num_classes)
        self.resolution = int(config.output_dim)
        self.channel_width = int(config.channel_width)
        self.n_stats = int(config.n_stats)
        self.embeddings = model.embeddings
        self.gen_z = gen.gen_z

        norms: list[Any] = []
        layers: list[nn.Module] = []
        for layer in gen.layers:
            if hasattr(layer, "bn_0"):
                first = sum(bn.num_features for bn in norms)
                bns = [layer.bn_0, layer.bn_1, layer.bn_2, layer.bn_3]
                spans = []
                for bn in bns:
                    spans.append((first, first + bn.num_features))
                    first += bn.num_features
                norms.extend(bns)
                layers.append(_Block(layer, spans))
            else:
                layers.append(_Attention(layer))
        self.layers = nn.ModuleList(layers)
        self.conv_to_rgb = gen.conv_to_rgb

        # Every conditional batch norm's scale and offset weights, stacked: one GEMM a call.
        self.register_buffer(
            "cond_weight",
            torch.cat([bn.scale.weight for bn in norms] + [bn.offset.weight for bn in norms]),
        )
        self.features = sum(bn.num_features for bn in norms)
        self.register_buffer(
            "eps", torch.cat([torch.full((bn.num_features,), bn.eps) for bn in norms])
        )
        self.register_buffer("means_table", torch.cat([bn.running_means for bn in norms], dim=1))
        self.register_buffer("vars_table", torch.cat([bn.running_vars for bn in norms], dim=1))
        final = gen.bn
        self.final_eps = float(final.eps)
        self.register_buffer("final_weight", final.weight.detach().clone())
        self.register_buffer("final_bias", final.bias.detach().clone())
        self.register_buffer("final_means_table", final.running_means.detach().clone())
        self.register_buffer("final_vars_table", final.running_vars.detach().clone())
        # What forward reads, set by set_truncation.
        self.register_buffer("mean", torch.zeros(self.features))
        self.register_buffer("inv_std", torch.ones(self.features))
        self.register_buffer("final_scale", torch.ones(self.channel_width))
        self.register_buffer("final_shift", torch.zeros(self.channel_width))
        self.truncation: float | None = None
        self.requires_grad_(False)
        self.eval()

    @property
    def dtype(self) -> torch.dtype:
        """Precision of the weights and activations."""
        return self.gen_z.weight.dtype

    def cast_(self, dtype: torch.dtype, *, channels_last: bool = True) -> InferenceBigGAN:
        """Convert the weights (not the statistics, which stay fp32) in place.

        Parameters
        ----------
        dtype : torch.dtype
            fp32, fp16 or bf16.
        channels_last : bool
            Store convolution weights channels-last (faster on CPUs and GPUs).
        """
        for param in self.parameters():
            param.data = param.data.to(dtype)
            if channels_last and param.dim() == 4:
                param.data = param.data.contiguous(memory_format=torch.channels_last)
        return self

    @torch.no_grad()
    def set_truncation(self, truncation: float) -> None:
        """Store the batch-norm statistics for ``truncation`` (in (0, 1]).

        The package's rule is reproduced term for term, so the output matches
        its model. Buffers are updated in place: compiled graphs and CUDA
        graphs that read them see the new values without being rebuilt.
        """
        start, coef = truncation_blend(float(truncation), self.n_stats)
        mean, var = _blend(self.means_table, self.vars_table, start, coef)
        self.mean.copy_(mean)
        self.inv_std.copy_(torch.rsqrt(var.float() + self.eps.float()))
        fmean, fvar = _blend(self.final_means_table, self.final_vars_table, start, coef)
        scale = self.final_weight.float() * torch.rsqrt(fvar.float() + self.final_eps)
        self.final_scale.copy_(scale)
        self.final_shift.copy_(self.final_bias.float() - fmean.float() * scale)
        self.truncation = float(truncation)

    def forward(
        self, z: torch.Tensor, y: torch.Tensor, cancel: CancelCheck | None = None
    ) -> torch.Tensor:
        """Generate images with the statistics stored by :meth:`set_truncation`.

        Parameters
        ----------
        z : torch.Tensor, shape (B, z_dim)
            Truncated latent vectors.
        y : torch.Tensor, shape (B, num_classes)
            Class vectors.
        cancel : callable, optional
            Asked before every layer; True raises :class:`~ganterp.models.base.Cancelled`
            (eager only: compiled engines are traced without it). On a GPU the
            layers are queued faster than they run, so every check comes early in
            the call and rarely stops it; it pays on a CPU, where a call is long.

        Returns
        -------
        torch.Tensor, shape (B, 3, resolution, resolution)
            Images in [-1, 1], in the activations' dtype.
        """
        return self.generate(
            z, y, self.mean, self.inv_std, self.final_scale, self.final_shift, cancel=cancel
        )

    def generate(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        mean: torch.Tensor,
        inv_std: torch.Tensor,
        final_scale: torch.Tensor,
        final_shift: torch.Tensor,
        cancel: CancelCheck | None = None,
    ) -> torch.Tensor:
        """Generate images with the batch-norm statistics passed as tensors.

        For engines that bake buffers into constants (TensorRT): the statistics
        stay inputs, so a truncation change needs no rebuild.

        Parameters
        ----------
        z, y : torch.Tensor
            As in :meth:`forward`.
        mean, inv_std : torch.Tensor, shape (F,), fp32
            Conditional batch norms' statistics, all layers concatenated.
        final_scale, final_shift : torch.Tensor, shape (channel_width,), fp32
            The last batch norm, folded into a scale and a shift.
        cancel : callable, optional
            As in :meth:`forward`.
        """
        dtype = self.gen_z.weight.dtype
        z = z.to(dtype)
        cond = torch.cat((z, self.embeddings(y.to(dtype))), dim=1)
        # Gains and offsets of all batch norms at once, in fp32.
        affine = F.linear(cond.float(), self.cond_weight.float())
        scale, offset = affine[:, : self.features], affine[:, self.features :]
        gain = (1.0 + scale) * inv_std.float()
        bias = offset - mean.float() * gain
        gain, bias = gain.to(dtype), bias.to(dtype)

        x = self.gen_z(cond)
        x = x.view(-1, 4, 4, 16 * self.channel_width).permute(0, 3, 1, 2).contiguous()
        for layer in self.layers:
            check_cancel(cancel)
            x = layer(x, gain, bias) if isinstance(layer, _Block) else layer(x)
        x = torch.relu(
            x * final_scale.to(dtype)[None, :, None, None]
            + final_shift.to(dtype)[None, :, None, None]
        )
        x = self.conv_to_rgb(x)[:, :3]
        return torch.tanh(x)


def _blend(
    means: torch.Tensor, variances: torch.Tensor, start: int, coef: float
) -> tuple[torch.Tensor, torch.Tensor]:
    if coef != 0.0:
        mean = means[start] * coef + means[start + 1] * (1 - coef)
        var = variances[start] * coef + variances[start + 1] * (1 - coef)
        return mean, var
    return means[start], variances[start]
