"""One recording through every stage: probe → audio → transcript → cues → translation → outputs.

The clip document beside the outputs is the source of truth: when it exists for the same audio,
a run reuses it (and any review edits in it) instead of transcribing again, and only renders
what is missing or out of date. Outputs are staged in a hidden folder and renamed into place,
so a failed run leaves the output folder as it found it.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import __version__, media, segment, subtitles
from .errors import BilingoError, ExitCode, TranslatorUnavailable
from .fsutil import atomic_write_text, staging_dir, sweep_leftovers
from .model import ClipDocument, Source, Transcript
from .progress import Reporter
from .render import ass, presets, video
from .transcribe import TranscribeOptions, transcribe
from .transcribe.models import cache_dir, resolve
from .translate import remember_edits, translate_cues
from .translate.chat import ChatTranslator
from .translate.glossary import Glossary
from .translate.memory import TranslationMemory, shared_path as shared_memory_path
from .translate.providers import PlainTranslator
from .translate.whisper import WhisperTranslator

RENDER_VERSION = 1  # bump when a change to rendering should redo finished outputs


@dataclass
class RunOptions:
    out_dir: Path
    presets: tuple[str, ...] = ("linkedin",)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    translator: str = "google"
    memory_files: tuple[Path, ...] = ()
    translator_url: str | None = None  # libre / openai endpoint (keys come from the environment or config)
    glossary_files: tuple[Path, ...] = ()
    presets_file: Path | None = None
    background: str | None = None  # colour or image for audio-only recordings; None: the preset's


@dataclass
class RunResult:
    document: Path
    outputs: list[Path] = field(default_factory=list)
    captions: list[Path] = field(default_factory=list)
    transcript_cached: bool = False
    reused_document: bool = False
    render_log: dict[str, str] = field(default_factory=dict)


def output_stem(clip: Path) -> str:
    return clip.stem or clip.name


def run(clip: Path, opts: RunOptions, report: Reporter) -> RunResult:
    chosen = _presets(opts)  # a typo fails before any work
    with report.stage("probe"):
        info = media.probe(clip)
    _check_durations(info, chosen)
    stem = output_stem(info.path)
    out = _output_folder(opts.out_dir, stem, chosen)
    with report.stage("extract audio") as progress:
        audio = media.extract_audio(info.path, info.duration_ms, progress)
    info = _decoded(info, audio, report)
    result = RunResult(document=out / f"{stem}.bilingo.json")
    doc = _document(info, audio, result, opts, report)

    error = _translate(doc, audio, opts, report)
    doc.save(result.document)
    result.captions = _write_captions(doc, out, stem)
    if error is not None:
        raise error  # transcript, source captions and document are saved: nothing is lost

    for preset in chosen:
        path = out / f"{stem}.{preset.id}.mp4"
        key = _render_key(doc, preset)
        if doc.renders.get(preset.id, {}).get("key") == key and path.is_file():
            report.say(f"{path.name} is up to date")
        else:
            result.render_log[preset.id] = _render(info, doc, preset, path, report)
            doc.renders[preset.id] = {"file": path.name, "key": key}
            doc.save(result.document)
        result.outputs.append(path)
    return result


def _presets(opts: RunOptions) -> list[presets.Preset]:
    chosen = [presets.get(p, opts.presets_file) for p in opts.presets]
    if opts.background:
        chosen = [replace(p, background=_background(opts.background)) for p in chosen]
    return chosen


def _check_durations(info: media.MediaInfo, chosen: list[presets.Preset]) -> None:
    """Refuse outputs the platform would refuse, before any work."""
    seconds = info.duration_ms / 1000
    for p in chosen:
        if p.min_duration_s and seconds < p.min_duration_s or p.max_duration_s and seconds > p.max_duration_s:
            raise BilingoError(f"{info.path.name} lasts {seconds:.1f} s but {p.id} takes {p.min_duration_s:g} s to "
                               f"{p.max_duration_s:g} s; trim it or choose another preset", ExitCode.BAD_INPUT)


def _output_folder(out: Path, stem: str, chosen: list[presets.Preset]) -> Path:
    """The output folder, made and checked before any work is done for it."""
    if out.exists() and not out.is_dir():
        raise BilingoError(f"{out} is a file; --out needs a folder", ExitCode.BAD_INPUT)
    try:
        out.mkdir(parents=True, exist_ok=True)
        name_max = os.pathconf(out, "PC_NAME_MAX")
    except OSError as exc:
        raise BilingoError(f"cannot use {out} as the output folder: {exc.strerror}", ExitCode.BAD_INPUT) from exc
    longest = max([f"{stem}.bilingo.json", *(f"{stem}.{p.id}.mp4" for p in chosen)], key=lambda n: len(os.fsencode(n)))
    if len(os.fsencode(longest)) > name_max:
        raise BilingoError(f"the output name {longest[:40]}… is longer than this file system allows ({name_max} "
                           "bytes); rename the recording", ExitCode.BAD_INPUT)
    sweep_leftovers(out)
    return out


def _decoded(info: media.MediaInfo, audio, report: Reporter) -> media.MediaInfo:
    """A truncated file is rendered as long as its audio, not as its header claims."""
    decoded_ms = len(audio) * 1000 // media.SAMPLE_RATE
    if decoded_ms < 0.9 * info.duration_ms:
        report.say(f"warning: only {decoded_ms / 1000:.1f} s of {info.duration_ms / 1000:.1f} s of audio could be "
                   "decoded; the file may be truncated")
        return replace(info, duration_ms=decoded_ms)
    return info


def _document(info: media.MediaInfo, audio, result: RunResult, opts: RunOptions, report: Reporter) -> ClipDocument:
    """The recording's clip document: the existing one (with its review edits), or a new one."""
    sha = media.audio_sha256(audio)
    doc = _existing_document(result.document, sha)
    if doc is not None:
        result.reused_document = True
        report.say(f"using {result.document.name} (with any review edits); delete it to transcribe again")
        return doc
    transcript, result.transcript_cached = _transcript(audio, sha, opts.transcribe, report)
    if not transcript.words:
        raise BilingoError(f"{info.path.name}: no speech found (silence, noise or music); nothing to caption",
                           ExitCode.NO_SPEECH)
    with report.stage("segment"):
        cues = segment.segment(transcript)
    source = Source(path=str(info.path), audio_sha256=sha, duration_ms=info.duration_ms,
                    has_video=info.has_video, width=info.width, height=info.height)
    doc = ClipDocument(source=source, transcript=transcript, cues=cues)
    doc.save(result.document)
    return doc


def _background(value: str) -> str:
    """A colour name or 0xRRGGBB as it is; anything that looks like a file must be a readable image."""
    if "." in value or "/" in value:
        path = Path(value).expanduser()
        if not path.is_file():
            raise BilingoError(f"background image {value} not found", ExitCode.BAD_INPUT)
        return str(path.resolve())
    return value


def _existing_document(path: Path, audio_sha: str) -> ClipDocument | None:
    if not path.exists():
        return None
    doc = ClipDocument.load(path)
    if doc.source.audio_sha256 != audio_sha:
        raise BilingoError(
            f"{path} belongs to a different recording with the same name; "
            "choose another --out folder or move that file aside (it may hold review edits)",
            ExitCode.BAD_INPUT,
        )
    return doc


def _transcript(audio, sha: str, topts: TranscribeOptions, report: Reporter) -> tuple[Transcript, bool]:
    """Transcribe, or reuse the cached transcript of the same audio with the same settings."""
    key = hashlib.sha256(json.dumps([sha, asdict(topts), __version__], sort_keys=True).encode()).hexdigest()[:32]
    cached = cache_dir() / "transcripts" / f"{key}.json"
    if cached.is_file():
        try:
            transcript = Transcript.from_dict(json.loads(cached.read_text(encoding="utf-8")))
            report.say("transcript found in the cache: not transcribing again")
            return transcript, True
        except (OSError, ValueError, TypeError, KeyError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is only a cache miss
    with report.stage(f"transcribe ({topts.model})") as progress:
        transcript = transcribe(audio, topts, progress)
    report.say(f"language: {transcript.language} (p={transcript.language_probability:.2f}), "
               f"{len(transcript.words)} words")
    atomic_write_text(cached, json.dumps(asdict(transcript), ensure_ascii=False))
    return transcript, False


def _translate(doc: ClipDocument, audio, opts: RunOptions, report: Reporter) -> TranslatorUnavailable | None:
    """Fill the target language of the cues that lack it (never a cue a person edited), by sentence,
    from the memory first; the error says how many cues remain and how to finish them."""
    if opts.translator == "none":
        return None
    memory = TranslationMemory(shared_memory_path(), list(opts.memory_files))
    try:
        if doc.translated:
            remember_edits(doc.cues, doc.language, memory)
            return None
        chain = _translators(doc, audio, opts)
        with report.stage("translate") as progress:
            doc.cues, error = translate_cues(doc.cues, doc.language, memory, chain, progress=progress,
                                             notice=report.say)  # each translator checks its own glossary
    finally:
        memory.close()
    if error is None:
        doc.cues = segment.fit_pair(doc.cues, doc.language)  # a long translation splits its cue, or is flagged
    doc.translator = opts.translator
    missing = sum(1 for c in doc.cues if not c.text(doc.target_language).strip())
    if not missing:
        return None
    clip = Path(doc.source.path).name
    resume = f"`bilingo translate {clip}" + (f" --out {opts.out_dir}`" if opts.out_dir else "`")
    if error is None and chain and chain[-1].name == "whisper":
        return TranslatorUnavailable(f"Whisper gave no English for {missing} of {len(doc.cues)} cues; write them in "
                                     "the clip document (or a --memory file) and rerun; the clip stays reviewable")
    why = str(error) if error is not None else "the translator gave nothing for them"
    return TranslatorUnavailable(f"{why}: {missing} of {len(doc.cues)} cues still need a translation; {resume} "
                                 "translates only those (rerun when online or with another --translator); "
                                 "the clip stays reviewable")


def _translators(doc: ClipDocument, audio, opts: RunOptions) -> list:
    """The chosen translator, then (for Chinese speech) Whisper's offline translate task."""
    chain: list = []
    glossary = Glossary.load(opts.glossary_files)
    if opts.translator == "openai":
        chain.append(ChatTranslator(doc.language, doc.target_language, opts.translator_url, glossary=glossary))
    elif opts.translator != "whisper":
        chain.append(PlainTranslator(opts.translator, doc.language, doc.target_language, opts.translator_url,
                                     glossary=glossary))
    if doc.language == "zh" and audio is not None and resolve(opts.transcribe.model).multilingual:
        chain.append(WhisperTranslator(audio, opts.transcribe.model, opts.transcribe.threads))
    elif opts.translator == "whisper":
        raise BilingoError("--translator whisper turns Chinese speech into English; this recording is English",
                           ExitCode.BAD_INPUT)
    return chain


def _write_captions(doc: ClipDocument, out: Path, stem: str) -> list[Path]:
    """One SRT per language with text; a language edited away loses its stale file."""
    written = []
    for lang in ("en", "zh"):
        path = out / f"{stem}.{lang}.srt"
        if any(c.text(lang).strip() for c in doc.cues):
            subtitles.write_srt(doc.cues, lang, path)
            written.append(path)
        else:
            path.unlink(missing_ok=True)
    return written


def _render_key(doc: ClipDocument, preset: presets.Preset) -> str:
    blob = json.dumps([RENDER_VERSION, doc.source.audio_sha256, [asdict(c) for c in doc.cues], asdict(preset)],
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _render(info: media.MediaInfo, doc: ClipDocument, preset: presets.Preset, path: Path, report: Reporter) -> str:
    lines = [ass.caption_lines(c, preset) for c in doc.cues]
    subs = ass.build(doc.cues, preset, lines)
    with staging_dir(path.parent) as work, report.stage(f"render {preset.id}") as progress:
        rendered, log = video.render(info, preset, subs.to_string("ass"), work, progress)
        if video.TOFU in log:
            report.say(f"warning: some characters have no glyph in the caption font ({preset.id})")
        os.replace(rendered, path)
    return log
