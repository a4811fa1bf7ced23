#!/usr/bin/env python3
"""Pillow baseline for GAN Studio's import benchmark (import speed beside Pillow).

Does the same work as `importDataset` at the benchmark's settings, as a competent Pillow script
would: scan the folder recursively (hidden files skipped, sorted paths), drop exact duplicates
(hash only files whose size collides), decode every image with JPEG draft mode (libjpeg's DCT
scaling, the same lever as sharp's shrink-on-load), apply EXIF orientation, flatten transparency
onto white, centre-crop and Lanczos-resize to RES x RES RGB, and write the uint8 NHWC cache
atomically (temp file, fsync, rename). Decoding runs in a process pool on every core.

Prints one JSON line: {"count", "skipped", "seconds", "cpu_seconds", "workers", "pillow"}.
"seconds" covers the scan through the fsync'd rename; Python start-up and imports are outside it,
as module loading is outside ours. "cpu_seconds" is user+system time of this process and its
workers over the same span. Exit code 3 with {"error"} when Pillow is missing.

  /usr/bin/python3 tools/bench/pil_import.py --src DIR --out FILE [--res 64] [--workers N]
"""
import argparse
import hashlib
import json
import os
import resource
import sys
import time

try:
    from PIL import Image, ImageOps
    import PIL
except ImportError:
    print(json.dumps({"error": "Pillow is not installed (on Debian/Ubuntu: apt-get install -y python3-pil)"}))
    sys.exit(3)

EXTS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".webp", ".gif", ".tif", ".tiff"}
MIN_SIDE = 8
RES = 64
LANCZOS = getattr(Image, "Resampling", Image).LANCZOS


def scan(root):
    entries = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        for name in filenames:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in EXTS:
                continue
            path = os.path.join(dirpath, name)
            try:
                size = os.stat(path).st_size
            except OSError:
                continue
            entries.append((os.path.relpath(path, root).replace(os.sep, "/"), path, size))
    entries.sort()
    return entries


def dedup(entries):
    by_size = {}
    for e in entries:
        by_size.setdefault(e[2], []).append(e)
    dupes = set()
    for group in by_size.values():
        if len(group) < 2:
            continue
        seen = set()
        for e in group:
            h = hashlib.sha256()
            with open(e[1], "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            d = h.digest()
            if d in seen:
                dupes.add(e[1])
            seen.add(d)
    return [e for e in entries if e[1] not in dupes]


def decode(path):
    try:
        with Image.open(path) as im:
            im.draft("RGB", (RES, RES))
            im = ImageOps.exif_transpose(im)
            if im.width < MIN_SIDE or im.height < MIN_SIDE:
                return None
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, rgba)
            im = im.convert("RGB")
            im = ImageOps.fit(im, (RES, RES), LANCZOS)
            return im.tobytes()
    except Exception:
        return None


def init_worker(res):
    global RES
    RES = res


def main():
    global RES
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--workers", type=int, default=0, help="processes (default: every core)")
    args = ap.parse_args()
    RES = args.res
    workers = args.workers or os.cpu_count() or 1

    def cpu():
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    t0 = time.perf_counter()
    c0 = cpu()
    entries = dedup(scan(args.src))
    paths = [e[1] for e in entries]
    tmp = "%s.tmp-%d" % (args.out, os.getpid())
    count = 0
    skipped = 0
    with open(tmp, "wb") as out:
        if workers == 1:
            results = map(decode, paths)
            pool = None
        else:
            from multiprocessing import Pool
            pool = Pool(workers, initializer=init_worker, initargs=(RES,))
            results = pool.imap(decode, paths, chunksize=4)
        for pixels in results:
            if pixels is None:
                skipped += 1
            else:
                out.write(pixels)
                count += 1
        if pool is not None:
            pool.close()
            pool.join()
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, args.out)
    seconds = time.perf_counter() - t0
    cpu_seconds = cpu() - c0
    print(json.dumps({"count": count, "skipped": skipped, "seconds": seconds, "cpu_seconds": cpu_seconds, "workers": workers, "pillow": PIL.__version__}))


if __name__ == "__main__":
    main()
