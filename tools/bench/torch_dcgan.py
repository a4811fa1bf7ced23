#!/usr/bin/env python3
"""PyTorch twin of GAN Studio's training step, for `npm run bench -- --torch`.

Same networks as src/main/trainer/model/families/dcgan (DCGAN: dense -> 4x4, then 4x4 stride-2
transposed convs with a per-pixel channel norm and ReLU, tanh to RGB; the discriminator is 4x4
stride-2 convs with LeakyReLU 0.2 down to 4x4 and a dense logit), the same non-saturating losses,
Adam (lr 2e-4, betas 0.5/0.999, eps 1e-8) for G and D, the same EMA of G, and the same step
order as Gan.trainStep: a generator step (D's weights frozen), then a discriminator step on the
same generated batch, detached.

Prints one JSON object per measured resolution on stdout:
  {"resolution": 32, "batch": 32, "steps": 20, "msPerStep": ..., "imagesPerSec": ..., "threads": 2,
   "torch": "1.13.1", "peakRssMiB": ...}
"""
import argparse
import json
import os
import resource
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resolution", type=int, action="append", help="32, 64, 128 or 256 (repeatable)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=0, help="measure at least this long (more steps if needed)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: every core)")
    parser.add_argument("--latent", type=int, default=128)
    parser.add_argument("--g-channels", type=int, default=64)
    parser.add_argument("--d-channels", type=int, default=64)
    args = parser.parse_args()

    try:
        import torch
        import torch.nn.functional as F
    except ImportError as err:
        print(json.dumps({"error": f"PyTorch is not installed for {sys.executable} ({err})"}))
        return 3

    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(1)

    def stages(res: int) -> int:
        n = {32: 3, 64: 4, 128: 5, 256: 6}.get(res)
        if n is None:
            raise SystemExit(f"unsupported resolution {res}")
        return n

    def g_channels(res: int):
        n = stages(res)
        return [min(args.g_channels * 2 ** (n - 1 - i), 512) for i in range(n)]

    def d_channels(res: int):
        n = stages(res)
        return [min(args.d_channels * 2 ** i, 512) for i in range(n)]

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
        def __init__(self, res: int):
            super().__init__()
            ch = g_channels(res)
            self.c0 = ch[0]
            self.dense = torch.nn.Linear(args.latent, 16 * ch[0])
            self.norms = torch.nn.ModuleList([ChannelNorm(c) for c in ch])
            self.ups = torch.nn.ModuleList([torch.nn.ConvTranspose2d(ch[i - 1], ch[i], 4, 2, 1) for i in range(1, len(ch))])
            self.rgb = torch.nn.ConvTranspose2d(ch[-1], 3, 4, 2, 1)

        def forward(self, z):
            x = self.dense(z).view(z.shape[0], self.c0, 4, 4)
            x = F.relu(self.norms[0](x))
            for up, norm in zip(self.ups, self.norms[1:]):
                x = F.relu(norm(up(x)))
            return torch.tanh(self.rgb(x))

    class Discriminator(torch.nn.Module):
        def __init__(self, res: int):
            super().__init__()
            ch = d_channels(res)
            ins = [3] + ch[:-1]
            self.convs = torch.nn.ModuleList([torch.nn.Conv2d(i, o, 4, 2, 1) for i, o in zip(ins, ch)])
            self.out = torch.nn.Linear(16 * ch[-1], 1)

        def forward(self, x):
            for conv in self.convs:
                x = F.leaky_relu(conv(x), 0.2)
            return self.out(x.flatten(1)).view(-1)

    def init(module):
        # Same scheme as the family params (model/params.ts): N(0, 0.02) weights, zero biases.
        for name, p in module.named_parameters():
            if name.endswith("weight"):
                torch.nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias") or name.endswith("beta"):
                torch.nn.init.zeros_(p)

    for res in args.resolution or [32]:
        g, d = Generator(res), Discriminator(res)
        init(g)
        init(d)
        g_ema = Generator(res)
        g_ema.load_state_dict(g.state_dict())
        for p in g_ema.parameters():
            p.requires_grad_(False)
        opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
        opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
        real = torch.rand(args.batch, 3, res, res) * 2 - 1
        d_params = list(d.parameters())

        def step():
            z = torch.randn(args.batch, args.latent)
            # Generator step; D's weights get no gradient (as in tfjs' variableGrads over G only).
            for p in d_params:
                p.requires_grad_(False)
            fake = g(z)
            g_loss = F.softplus(-d(fake)).mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            with torch.no_grad():
                for pe, p in zip(g_ema.parameters(), g.parameters()):
                    pe.mul_(0.999).add_(p, alpha=0.001)
            for p in d_params:
                p.requires_grad_(True)
            # Discriminator step on the same generated batch.
            fake = fake.detach()
            d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            return g_loss.item(), d_loss.item()

        for _ in range(args.warmup):
            step()
        steps = 0
        cpu_start = time.process_time()
        start = time.perf_counter()
        while steps < args.steps or time.perf_counter() - start < args.seconds:
            step()
            steps += 1
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        print(
            json.dumps(
                {
                    "resolution": res,
                    "batch": args.batch,
                    "steps": steps,
                    "msPerStep": elapsed * 1000 / steps,
                    "imagesPerSec": args.batch * steps / elapsed,
                    "cpuMsPerStep": cpu * 1000 / steps,
                    "threads": torch.get_num_threads(),
                    "torch": torch.__version__,
                    "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
