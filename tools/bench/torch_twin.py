#!/usr/bin/env python3
"""PyTorch twins of GAN Studio's training step, for `npm run bench -- --torch`.

The networks of the `dcgan` (torch_dcgan.py) or `lite` (torch_lite.py) family at the given widths,
the default non-saturating loss, Adam (lr 2e-4, betas 0.5/0.999, eps 1e-8) for both, and the EMA
of G, trained as a PyTorch user trains a GAN: a generator step (D's weights frozen), then a
discriminator step on real images and the same generated batch, detached.

Protocol (stdin/stdout, one JSON object a line): after set-up and warm-up it prints
  {"ready": {"torch": "1.13.1", "threads": 2, "blas": "OpenBLAS (...)", "blasThreads": "1"}}
then for each line "measure <seconds> <min steps>" it prints {"event": "start"} when the timed
window opens and {"steps", "seconds", "msPerStep", "imagesPerSec", "cpuMsPerStep", "peakRssMiB"}
when it closes; "quit" (or end of input) ends it. With --once it measures once and exits.
Exit code 3 with {"error"} when PyTorch is missing.
"""
import argparse
import json
import os
import resource
import sys
import time


def blas_in_use(torch) -> str:
    """Which BLAS library this process loaded (read from /proc/self/maps after a matrix product)."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    libs = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path).lower()
                if any(k in name for k in ("blas", "mkl", "blis")):
                    libs.add(os.path.realpath(path))
    except OSError:
        return "unknown (no /proc/self/maps)"
    if not libs:
        return "none loaded (PyTorch's own kernels)"
    joined = " ".join(sorted(libs)).lower()
    if "openblas" in joined:
        kind = "OpenBLAS"
    elif "mkl" in joined:
        kind = "MKL"
    elif "blis" in joined:
        kind = "BLIS"
    elif "/blas/" in joined or "libblas.so" in joined:
        kind = "reference BLAS (slow: install libopenblas0-pthread)"
    else:
        kind = "unrecognised BLAS"
    return f"{kind} ({', '.join(sorted(libs))})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=["dcgan", "lite"], default="dcgan")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: every core)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="OpenBLAS's own thread pool (default 1; 0 leaves OpenBLAS's default, which starts one thread per core "
        "under each of torch's threads and oversubscribes the cores)",
    )
    parser.add_argument("--latent", type=int, default=128)
    parser.add_argument("--g-channels", type=int, default=64)
    parser.add_argument("--d-channels", type=int, default=64)
    parser.add_argument("--once", type=float, default=None, metavar="SECONDS", help="measure once for this long and exit")
    parser.add_argument("--shapes", action="store_true", help="print the element count of every parameter tensor of G and D as JSON and exit")
    args = parser.parse_args()

    # OpenBLAS reads its thread count when it loads, so this must come before `import torch`.
    # torch already parallelises over its own threads; an OpenBLAS pool per torch thread on top
    # runs 4 threads on 2 cores and made this twin 2.5-4x slower and its timings swing by ±20%.
    if args.blas_threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as err:
        print(json.dumps({"error": f"PyTorch is not installed for {sys.executable} ({err}); on Debian/Ubuntu: apt-get install -y python3-torch libopenblas0-pthread"}), flush=True)
        return 3
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.arch == "dcgan":
        import torch_dcgan as family
    else:
        import torch_lite as family

    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.manual_seed(1)
    g, d, make_g = family.build(args.resolution, args.latent, args.g_channels, args.d_channels)
    if args.shapes:
        print(json.dumps({"g": sorted(p.numel() for p in g.parameters()), "d": sorted(p.numel() for p in d.parameters())}), flush=True)
        return 0
    g_ema = make_g()
    g_ema.load_state_dict(g.state_dict())
    for p in g_ema.parameters():
        p.requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    real = torch.rand(args.batch, 3, args.resolution, args.resolution) * 2 - 1
    d_params = list(d.parameters())
    recon = getattr(family, "reconstruction_loss", None)
    state = {"t": 0}

    def step():
        z = torch.randn(args.batch, args.latent)
        for p in d_params:
            p.requires_grad_(False)
        fake = g(z)
        g_loss = F.softplus(-d(fake)[0]).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        state["t"] += 1
        decay = min(0.999, (1 + state["t"]) / (10 + state["t"]))
        with torch.no_grad():
            for pe, p in zip(g_ema.parameters(), g.parameters()):
                pe.mul_(decay).add_(p, alpha=1 - decay)
        for p in d_params:
            p.requires_grad_(True)
        logits_real, rec = d(real, real=True)
        d_loss = F.softplus(-logits_real).mean() + F.softplus(d(fake.detach())[0]).mean()
        if rec is not None and recon is not None:
            d_loss = d_loss + recon(rec, real)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        return g_loss.item(), d_loss.item()

    for _ in range(args.warmup):
        step()

    def measure(seconds: float, min_steps: int):
        print(json.dumps({"event": "start"}), flush=True)
        steps = 0
        cpu_start = time.process_time()
        start = time.perf_counter()
        while steps < min_steps or time.perf_counter() - start < seconds:
            step()
            steps += 1
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        print(
            json.dumps(
                {
                    "steps": steps,
                    "seconds": elapsed,
                    "msPerStep": elapsed * 1000 / steps,
                    "imagesPerSec": args.batch * steps / elapsed,
                    "cpuMsPerStep": cpu * 1000 / steps,
                    "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            ),
            flush=True,
        )

    print(json.dumps({"ready": {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_in_use(torch), "blasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}}), flush=True)
    if args.once is not None:
        measure(args.once, 1)
        return 0
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        if parts[0] == "measure":
            measure(float(parts[1]), int(parts[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
