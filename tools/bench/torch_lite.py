"""PyTorch twin of GAN Studio's `lite` family (src/main/trainer/model/families/lite) at its defaults.

Generator: z -> dense -> 4x4 -> channel norm -> GLU; per stage nearest x2 upsampling + 3x3 conv,
channel norm, per-image noise with a learned per-channel strength, GLU; skip-layer excitation (the
4x4 features, pooled to 4x4, gate the channels of the stage three octaves up: 32x32 from 4x4, 64x64
from 8x8); 3x3 conv to RGB, tanh. Discriminator: 3x3 conv, residual down-blocks (4x4 stride-2 conv
+ 3x3 conv beside 2x2 average pooling + 1x1 conv, averaged), a 4x4 valid conv to one logit; on real
images a decoder (nearest x2 + 3x3 conv stages) rebuilds a copy of the image from the 8x8 features,
and its mean squared error joins the discriminator's loss. Same widths as the family: generator
channels g_channels at full resolution doubling towards 4x4 (capped at 512), discriminator
d_channels after the first down-block, doubling. Written as PyTorch users write FastGAN's
upsampling (interpolate + conv); GAN Studio runs the same function as a tied 4x4 transposed conv.
Used by torch_twin.py.
"""
import math

import torch
import torch.nn.functional as F

from torch_dcgan import ChannelNorm, init

MAX = 512


def stages(res: int) -> int:
    n = int(math.log2(res)) - 2
    if 2 ** (n + 2) != res or n < 1:
        raise SystemExit(f"unsupported resolution {res}")
    return n


def up(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


class Generator(torch.nn.Module):
    def __init__(self, res: int, latent: int, g_channels: int):
        super().__init__()
        n = stages(res)
        w = [min(g_channels * 2 ** (n - i), MAX) for i in range(n + 1)]
        self.w = w
        self.dense = torch.nn.Linear(latent, 16 * 2 * w[0])
        self.norms = torch.nn.ModuleList([ChannelNorm(2 * c) for c in w])
        self.ups = torch.nn.ModuleList([torch.nn.Conv2d(w[i - 1], 2 * w[i], 3, padding=1) for i in range(1, n + 1)])
        self.strength = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2 * w[i])) for i in range(1, n + 1)])
        self.sle = {big: big - 3 for big in range(3, n + 1)}
        self.sle_a = torch.nn.ModuleDict({str(b): torch.nn.Conv2d(w[s], w[b], 4) for b, s in self.sle.items()})
        self.sle_b = torch.nn.ModuleDict({str(b): torch.nn.Conv2d(w[b], w[b], 1) for b in self.sle})
        self.rgb = torch.nn.Conv2d(w[-1], 3, 3, padding=1)

    def forward(self, z, noise: bool = True):
        b = z.shape[0]
        x = self.dense(z).view(b, 2 * self.w[0], 4, 4)
        x = F.glu(self.norms[0](x), dim=1)
        feats = [x]
        for i in range(1, len(self.w)):
            x = self.norms[i](self.ups[i - 1](up(x)))
            if noise:
                x = x + self.strength[i - 1][None, :, None, None] * torch.randn(b, 1, x.shape[2], x.shape[3])
            x = F.glu(x, dim=1)
            if i in self.sle:
                s = feats[self.sle[i]]
                while s.shape[-1] > 4:
                    s = F.avg_pool2d(s, 2)
                a = F.leaky_relu(self.sle_a[str(i)](s), 0.1)
                x = x * torch.sigmoid(self.sle_b[str(i)](a))
            feats.append(x)
        return torch.tanh(self.rgb(x))


class Discriminator(torch.nn.Module):
    def __init__(self, res: int, d_channels: int, decoder_size: int = 32):
        super().__init__()
        n = stages(res)
        d = [min(d_channels * 2 ** i, MAX) for i in range(n)]
        first = max(8, d[0] // 2)
        self.inp = torch.nn.Conv2d(3, first, 3, padding=1)
        self.a = torch.nn.ModuleList()
        self.b = torch.nn.ModuleList()
        self.skip = torch.nn.ModuleList()
        c_in = first
        for c in d:
            self.a.append(torch.nn.Conv2d(c_in, c, 4, 2, 1))
            self.b.append(torch.nn.Conv2d(c, c, 3, padding=1))
            self.skip.append(torch.nn.Conv2d(c_in, c, 1))
            c_in = c
        self.logit = torch.nn.Conv2d(c_in, 1, 4)
        c8 = d[-2] if len(d) > 1 else d[0]
        steps = int(math.log2(min(res, decoder_size) / 8))
        self.dec = torch.nn.ModuleList()
        c = c8
        for i in range(steps):
            out = max(16, c8 // 2 ** (i + 1))
            self.dec.append(torch.nn.Conv2d(c, out, 3, padding=1))
            c = out
        self.decrgb = torch.nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, x, real: bool = False):
        """Logits, and on real images the decoder's reconstruction."""
        h = F.leaky_relu(self.inp(x), 0.2)
        at8 = None
        for a, b, skip in zip(self.a, self.b, self.skip):
            main = F.leaky_relu(b(F.leaky_relu(a(h), 0.2)), 0.2)
            h = (main + F.leaky_relu(skip(F.avg_pool2d(h, 2)), 0.2)) * 0.5
            if h.shape[-1] == 8:
                at8 = h
        logits = self.logit(h).view(-1)
        if not real:
            return logits, None
        r = at8 if at8 is not None else h
        for conv in self.dec:
            r = F.leaky_relu(conv(up(r)), 0.2)
        return logits, torch.tanh(self.decrgb(r))


def reconstruction_loss(rec, real):
    """Mean squared error against the real image averaged down to the reconstruction's size."""
    target = real
    while target.shape[-1] > rec.shape[-1]:
        target = F.avg_pool2d(target, 2)
    return (rec - target).pow(2).mean()


def build(res: int, latent: int, g_channels: int, d_channels: int):
    g, d = Generator(res, latent, g_channels), Discriminator(res, d_channels)
    init(g)
    init(d)
    return g, d, lambda: Generator(res, latent, g_channels)
