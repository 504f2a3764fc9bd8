"""What a rerun's audio stage costs when the clip document holds it under the same key, against decoding
the recording again (what every run did before each stage had a declared key: issue 15).

    python bench/stage_keys_bench.py                 # jfk looped to 10 minutes, 5 repeats
    python bench/stage_keys_bench.py --minutes 30 --repeat 3

Both run in this process on the same file: "decode" is the audio stage done (ffmpeg decode to 16 kHz and
the decoded audio's hash, the recording's identity); "keys" is what a rerun does instead: the declared
keys of probe, audio, transcribe, cues and translate, from the file's size and modification time and the
clip document (`pipeline.stage_keys`). Prints the median seconds of --repeat runs and their ratio.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bilingo import media, pipeline  # noqa: E402
from bilingo.model import ClipDocument, Source, Transcript  # noqa: E402
from bilingo.transcribe import TranscribeOptions  # noqa: E402


def long_recording(folder: Path, minutes: float) -> Path:
    path = folder / "long.flac"
    subprocess.run([media.find_ffmpeg(), "-v", "error", "-stream_loop", "-1", "-i", str(ROOT / "tests/media/jfk.flac"),
                    "-t", str(minutes * 60), "-c:a", "flac", str(path)], check=True)
    return path


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = long_recording(Path(tmp), args.minutes)
        info = media.probe(path)
        samples = media.extract_audio(path, info.duration_ms)
        probe = pipeline.probe_key(path)
        doc = ClipDocument(source=Source(str(path), media.audio_sha256(samples), info.duration_ms, False),
                           transcript=Transcript(language="en", language_probability=1.0, words=(), duration_ms=info.duration_ms), cues=[],
                           keys={"audio": pipeline.audio_key(probe)})
        opts = pipeline.RunOptions(out_dir=Path(tmp), transcribe=TranscribeOptions(model="tiny.en"), translator="none")
        decode = median_s(lambda: media.audio_sha256(media.extract_audio(path, info.duration_ms)), args.repeat)
        keys = median_s(lambda: pipeline.stage_keys(doc, path, opts), args.repeat)
        assert pipeline.stage_keys(doc, path, opts).complete, "the document's audio key should match"
    print(f"{args.minutes:g} min recording, median of {args.repeat}")
    print(f"  audio stage done again (decode + hash)   {decode:8.3f} s")
    print(f"  stage keys from the clip document        {keys:8.3f} s")
    print(f"  ratio                                     {decode / keys:8.0f}x")


if __name__ == "__main__":
    main()
