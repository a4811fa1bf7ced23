"""PyTorch twin of GAN Studio's `dcgan` family (src/main/trainer/model/families/dcgan) at its defaults.

Generator: dense -> 4x4, then 4x4 stride-2 transposed convs with a per-pixel channel norm and ReLU,
a 4x4 stride-2 transposed conv to RGB and tanh. Discriminator: 4x4 stride-2 convs with LeakyReLU
0.2 down to 4x4 and a dense logit. Weights N(0, 0.02), zero biases, as the family's parameters.
Used by torch_twin.py.
"""
import torch
import torch.nn.functional as F


def stages(res: int) -> int:
    n = {32: 3, 64: 4, 128: 5, 256: 6}.get(res)
    if n is None:
        raise SystemExit(f"unsupported resolution {res}")
    return n


class ChannelNorm(torch.nn.Module):
    """Layer norm over the channel axis at each pixel, learned per-channel scale and shift."""

    def __init__(self, c: int):
        super().__init__()
        self.gamma = torch.nn.Parameter(torch.ones(c))
        self.beta = torch.nn.Parameter(torch.zeros(c))

    def forward(self, x):
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + 1e-5) * self.gamma[None, :, None, None] + self.beta[None, :, None, None]


class Generator(torch.nn.Module):
    def __init__(self, res: int, latent: int, g_channels: int):
        super().__init__()
        n = stages(res)
        ch = [min(g_channels * 2 ** (n - 1 - i), 512) for i in range(n)]
        self.c0 = ch[0]
        self.dense = torch.nn.Linear(latent, 16 * ch[0])
        self.norms = torch.nn.ModuleList([ChannelNorm(c) for c in ch])
        self.ups = torch.nn.ModuleList([torch.nn.ConvTranspose2d(ch[i - 1], ch[i], 4, 2, 1) for i in range(1, len(ch))])
        self.rgb = torch.nn.ConvTranspose2d(ch[-1], 3, 4, 2, 1)

    def forward(self, z, noise: bool = True):
        x = self.dense(z).view(z.shape[0], self.c0, 4, 4)
        x = F.relu(self.norms[0](x))
        for up, norm in zip(self.ups, self.norms[1:]):
            x = F.relu(norm(up(x)))
        return torch.tanh(self.rgb(x))


class Discriminator(torch.nn.Module):
    def __init__(self, res: int, d_channels: int):
        super().__init__()
        n = stages(res)
        ch = [min(d_channels * 2 ** i, 512) for i in range(n)]
        ins = [3] + ch[:-1]
        self.convs = torch.nn.ModuleList([torch.nn.Conv2d(i, o, 4, 2, 1) for i, o in zip(ins, ch)])
        self.out = torch.nn.Linear(16 * ch[-1], 1)

    def forward(self, x, real: bool = False):
        """Logits, and no extra outputs (the family has no auxiliary task)."""
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return self.out(x.flatten(1)).view(-1), None


def init(module):
    for name, p in module.named_parameters():
        if name.endswith("weight"):
            torch.nn.init.normal_(p, 0.0, 0.02)
        elif name.endswith("bias") or name.endswith("beta"):
            torch.nn.init.zeros_(p)


def build(res: int, latent: int, g_channels: int, d_channels: int):
    g, d = Generator(res, latent, g_channels), Discriminator(res, d_channels)
    init(g)
    init(d)
    return g, d, lambda: Generator(res, latent, g_channels)
