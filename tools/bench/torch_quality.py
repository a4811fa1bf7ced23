#!/usr/bin/env python3
"""PyTorch reference models for `npm run bench -- --quality`: train on a dataset for a fixed
wall-clock time, then write generated images for the quality meter.

  --model dcgan-bn      the standard DCGAN recipe (Radford et al.): transposed convs with BatchNorm
                        and ReLU in G (128-64-32 at 32 px, 256-128-64-32 at 64 px), strided convs
                        with BatchNorm and LeakyReLU 0.2 in D, z 64, BCE loss, Adam 2e-4 (0.5, 0.999)
  --model fastgan-lite  the `lite` twin's networks (torch_lite.py) with FastGAN's training recipe:
                        hinge loss with a random margin, DiffAugment (colour, translation, cutout),
                        the reconstruction loss on real images, EMA of G (0.999)

The dataset comes as raw uint8 RGB (N x R x R x 3, already flattened onto the background by the
bench, as GAN Studio's importer does) and the images go out the same way, so no image library is
needed here. The clock starts after the data is loaded and the models are built. Prints one JSON
line: {"steps", "seconds", "imagesPerSec", "images"}. Exit code 3 with {"error"} without PyTorch.
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["dcgan-bn", "fastgan-lite"], required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--resolution", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # One OpenBLAS thread under each of torch's threads (set before torch loads OpenBLAS): the
    # default pool per torch thread oversubscribes the cores and slows the reference 2.5-4x.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as err:
        print(json.dumps({"error": f"PyTorch is not installed for {sys.executable} ({err})"}), flush=True)
        return 3
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    R = args.resolution

    with open(args.data, "rb") as f:
        raw = f.read()
    per = R * R * 3
    if len(raw) == 0 or len(raw) % per:
        print(json.dumps({"error": f"{args.data} is not a whole number of {R}x{R} RGB images"}), flush=True)
        return 2
    data = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(-1, R, R, 3).permute(0, 3, 1, 2).float() / 127.5 - 1

    def batches():
        while True:
            perm = torch.randperm(data.shape[0])
            for i in range(0, data.shape[0] - args.batch + 1, args.batch):
                x = data[perm[i : i + args.batch]]
                flip = torch.rand(x.shape[0]) < 0.5
                x[flip] = x[flip].flip(3)
                yield x

    stream = batches()
    if args.model == "dcgan-bn":
        z_dim = 64
        n = {32: 3, 64: 4}[R]
        gch = [32 * 2 ** (n - 1 - i) for i in range(n)]
        layers = [torch.nn.ConvTranspose2d(z_dim, gch[0], 4, 1, 0, bias=False), torch.nn.BatchNorm2d(gch[0]), torch.nn.ReLU(True)]
        for a, b in zip(gch, gch[1:]):
            layers += [torch.nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(b), torch.nn.ReLU(True)]
        layers += [torch.nn.ConvTranspose2d(gch[-1], 3, 4, 2, 1, bias=False), torch.nn.Tanh()]
        g = torch.nn.Sequential(*layers)
        dch = list(reversed(gch))
        layers = [torch.nn.Conv2d(3, dch[0], 4, 2, 1, bias=False), torch.nn.LeakyReLU(0.2, True)]
        for a, b in zip(dch, dch[1:]):
            layers += [torch.nn.Conv2d(a, b, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(b), torch.nn.LeakyReLU(0.2, True)]
        layers += [torch.nn.Conv2d(dch[-1], 1, 4, 1, 0, bias=False)]
        d = torch.nn.Sequential(*layers)

        def init(m):
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.normal_(m.weight, 1.0, 0.02)
                torch.nn.init.zeros_(m.bias)

        g.apply(init)
        d.apply(init)
        opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        bce = torch.nn.BCEWithLogitsLoss()

        def step():
            real = next(stream)
            b = real.shape[0]
            z = torch.randn(b, z_dim, 1, 1)
            fake = g(z)
            opt_d.zero_grad()
            loss_d = bce(d(real).view(-1), torch.ones(b)) + bce(d(fake.detach()).view(-1), torch.zeros(b))
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = bce(d(fake).view(-1), torch.ones(b))
            loss_g.backward()
            opt_g.step()

        def sample(z):
            g.eval()
            with torch.no_grad():
                out = g(z.view(z.shape[0], z_dim, 1, 1))
            g.train()
            return out

    else:
        import copy

        import torch_lite

        z_dim = 128
        g, d, _ = torch_lite.build(R, z_dim, 64, 64)
        g_ema = copy.deepcopy(g)
        for p in g_ema.parameters():
            p.requires_grad_(False)
        opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

        def diff_augment(x):
            # DiffAugment (Zhao et al. 2020): colour, translation, cutout, the same for real and fake.
            b = x.shape[0]
            x = x + (torch.rand(b, 1, 1, 1) - 0.5)
            mean = x.mean(dim=1, keepdim=True)
            x = (x - mean) * (torch.rand(b, 1, 1, 1) * 2) + mean
            mean = x.mean(dim=[1, 2, 3], keepdim=True)
            x = (x - mean) * (torch.rand(b, 1, 1, 1) + 0.5) + mean
            shift = R // 8
            tx = torch.randint(-shift, shift + 1, (b,))
            ty = torch.randint(-shift, shift + 1, (b,))
            padded = F.pad(x, [shift, shift, shift, shift])
            x = torch.stack([padded[i, :, shift + ty[i] : shift + ty[i] + R, shift + tx[i] : shift + tx[i] + R] for i in range(b)])
            cut = R // 2
            cy = torch.randint(0, R, (b,))
            cx = torch.randint(0, R, (b,))
            ys = torch.arange(R).view(1, R, 1)
            xs = torch.arange(R).view(1, 1, R)
            keep = ~(((ys - cy.view(b, 1, 1)).abs() < cut // 2) & ((xs - cx.view(b, 1, 1)).abs() < cut // 2))
            return x * keep.unsqueeze(1).float()

        def step():
            real = next(stream)
            b = real.shape[0]
            fake = g(torch.randn(b, z_dim))
            real_a = diff_augment(real)
            fake_a = diff_augment(fake)
            opt_d.zero_grad()
            logits_r, rec = d(real_a, real=True)
            logits_f, _ = d(fake_a.detach())
            loss_d = F.relu(torch.rand_like(logits_r) * 0.2 + 0.8 - logits_r).mean() + F.relu(torch.rand_like(logits_f) * 0.2 + 0.8 + logits_f).mean()
            loss_d = loss_d + torch_lite.reconstruction_loss(rec, real_a)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = -d(fake_a)[0].mean()
            loss_g.backward()
            opt_g.step()
            with torch.no_grad():
                for pe, p in zip(g_ema.parameters(), g.parameters()):
                    pe.mul_(0.999).add_(p, alpha=0.001)

        def sample(z):
            with torch.no_grad():
                return g_ema(z, noise=False)

    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start

    gen = torch.Generator().manual_seed(12345)
    z = torch.randn(args.count, z_dim, generator=gen)
    with open(args.out, "wb") as out:
        for i in range(0, args.count, 64):
            imgs = sample(z[i : i + 64])
            arr = ((imgs.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()
            out.write(bytes(arr.flatten().tolist()))
    written = args.count
    print(json.dumps({"steps": steps, "seconds": elapsed, "imagesPerSec": steps * args.batch / elapsed, "images": written}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
