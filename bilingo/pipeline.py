"""One recording through every stage: probe → audio → transcript → cues → translation → outputs.

The clip document beside the outputs is the source of truth: when it exists for the same audio,
a run reuses it (and any review edits in it) instead of transcribing again, and only renders
what is missing or out of date. Outputs are staged in a hidden folder and renamed into place,
so a failed run leaves the output folder as it found it.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

import msgspec

from . import figures, media, rules, segment
from .cache import content_hash, stage_key
from .errors import BilingoError, ExitCode, TranslatorUnavailable, hint
from .fsutil import atomic_write_text, check_writable, staging_dir, sweep_leftovers
from .media import output_stem  # noqa: F401 (public here too)
from .model import (ClipDocument, Cue, Source, StaleDocument, Transcript, assign_ids, attach_words, document_lock,
                    other_language)
from .plan import (Plan, RenderPlan, Target, TranslatePlan, changed, describe, from_document_settings,
                   presets_file_note, resolve_plan)
from .progress import Reporter, with_progress
from .review import srt as review_srt
from .formats import ass
from .render import presets, verify, video
from .transcribe import TranscribeOptions, decode_settings, one_language_note, transcribe
from .transcribe.models import ModelRef, cache_dir, resolve
from .translate import remember_edits, rough_cues, translate_cues
from .translate.chat import ChatTranslator
from .translate.glossary import Glossary
from .translate.memory import TranslationMemory, shared_path as shared_memory_path
from .translate.providers import PlainTranslator
from .translate.whisper import WhisperTranslator



@dataclass
class RunOptions:
    """What one command asks of a recording. The render choices are changes to the clip's stored plan
    (`plan.RenderPlan`): a run with no render flags renders what the clip's plan says."""
    out_dir: Path
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    translator: str = "google"
    memory_files: tuple[Path, ...] = ()
    translator_url: str | None = None  # libre / openai endpoint (keys come from the environment or config)
    glossary_files: tuple[Path, ...] = ()
    render: Mapping[str, Any] | RenderPlan = field(default_factory=dict)  # plan field -> value; unset: the clip's
    redo: tuple[str, ...] = ()  # stages to do again although the clip document has them: transcribe, translate
    force: bool = False  # let --redo transcribe replace cues a person edited
    until: str = "render"  # "review": stop once the clip document and its captions are ready for review
    approved_only: bool = False  # render only a clip a person approved (the review gate)
    discard_srt_edits: bool = False  # overwrite sidecar SRTs a person edited instead of stopping
    accept_rough: bool = False  # render Whisper's rough fallback translation without a review
    audio_stream: int | None = None  # the audio stream to caption (0: the first); None: the one with speech
    render_only: bool = False  # render the document as it is: no stage before the render is done again
    profile: str | None = None  # caption profile (rules.PROFILES); None: learner when translating, else native

    @property
    def translate(self) -> TranslatePlan:
        return TranslatePlan(self.translator, self.translator_url, tuple(self.memory_files),
                             tuple(self.glossary_files))


@dataclass(frozen=True)
class StageKeys:
    """The declared key of each stage before the render (render keys are per preset: `render_keys`):
    the stage's inputs (their hashes or the key of the stage before), its typed settings and its code.
    "" where not known yet: the transcript's key needs the decoded audio's hash."""
    probe: str = ""
    audio: str = ""
    transcribe: str = ""
    cues: str = ""
    translate: str = ""

    @property
    def complete(self) -> dict[str, str] | None:
        """The keys as a record (batch state), when every one is known."""
        return asdict(self) if all(asdict(self).values()) else None


@dataclass(frozen=True)
class KnownKeys:
    """Keys a caller (batch) already computed for one revision of the document (None: no document yet)
    and one plan: a run of that same revision (and plan) uses them instead of computing them again."""
    revision: int | None
    render: RenderPlan | None = None
    keys: dict[str, str] = field(default_factory=dict)  # preset -> render key
    stages: StageKeys | None = None


@dataclass
class RunResult:
    document: Path
    outputs: list[Path] = field(default_factory=list)
    captions: list[Path] = field(default_factory=list)
    transcript_cached: bool = False
    reused_document: bool = False
    render_log: dict[str, str] = field(default_factory=dict)
    stopped_for_review: bool = False
    covers: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # presets this recording cannot be rendered for
    editions: list[Path] = field(default_factory=list)  # NAME.PRESET.shadowing.mp4
    plan: Plan | None = None  # the plan this run resolved (and saved in the document)
    stage_keys: StageKeys = field(default_factory=StageKeys)  # the keys of this run's stages before the render
    render_keys: dict[str, str] = field(default_factory=dict)  # preset -> key of what it rendered or found done


def run(clip: Path, opts: RunOptions, report: Reporter, known: KnownKeys | None = None) -> RunResult:
    """Run every stage; a run that fails leaves no new output folder behind (it may hold the
    document and source captions when only translation failed: they are the work done)."""
    created = not opts.out_dir.exists()
    try:
        return _run(clip, opts, report, known)
    except BaseException:
        if created and opts.out_dir.is_dir() and not any(opts.out_dir.iterdir()):
            opts.out_dir.rmdir()
        raise


def _run(clip: Path, opts: RunOptions, report: Reporter, known: KnownKeys | None) -> RunResult:
    _check_engine(opts.transcribe)
    with report.stage("probe"):
        info = media.probe(clip)
    stem = output_stem(info.path)
    result = RunResult(document=opts.out_dir / f"{stem}.bilingo.json")
    old = _existing_document(result.document)
    plan = result.plan = plan_for(old, result.document, opts, report)  # a typo fails before any work
    if plan.translate.translator == "none" and (plan.translate.memory_files or plan.translate.glossary_files):
        report.say("note: --translator none makes source-language captions only: the --memory and --glossary "
                   "files given are not read (leave out --translator none to translate from them)")
    info = _audio_stream(info, old, result.document, opts.audio_stream, report)
    if plan.render.background and info.has_video:
        report.say(f"note: --background is for audio-only recordings; {info.path.name} has video, so it is not used")
    try:
        _check_durations(info, plan.targets, plan.render.trim)  # nothing fits: fail before extracting
    except BilingoError:
        if media.holds_audio_at(info.path, 0.9 * info.duration_ms / 1000):  # the header's length is true
            raise
        # the header claims more than the file holds: the decoded length decides, after extracting
    out = _output_folder(opts.out_dir, stem, plan.targets)
    same = known is not None and known.revision == (old.revision if old is not None else None)
    given = known.stages if same and known.stages else StageKeys()
    probe = given.probe or probe_key(info.path)
    assumed = old.source.audio_stream if old is not None else 0  # the stream a batch's given keys are for
    key = given.audio if given.audio and info.audio_stream == assumed else audio_key(probe, info.audio_stream)
    audio = _audio(info, old, key, opts, report)
    info = _decoded(info, audio, report)
    jobs, result.skipped = _check_durations(info, plan.targets, plan.render.trim)  # what could really be decoded
    for line in result.skipped:
        report.say(line)
    keys = result.stage_keys = _later_keys(replace(given, probe=probe, audio=audio.key), old, audio, opts)
    doc = _document(info, audio, old, result, opts, report, keys)
    if not opts.discard_srt_edits:
        review_srt.check_sidecars(doc, result.document)  # before any work that would overwrite them
    reused = known if same and known.render == plan.render else None
    doc.plan = plan.render
    doc.keys.update(probe=keys.probe, audio=keys.audio)  # the document's source is this file, decoded so

    use_machine = _retranslation(doc, old, keys, plan, opts, report)
    translated = doc.translated
    error = _translate(doc, audio, plan.translate, plan.transcribe, report, result.document, use_machine)
    if error is None and plan.translate.translator != "none" and doc.translated and not translated:
        doc.keys["translate"] = keys.translate  # what the translations were made from and with
    if error is None and (plan.render.key_words or plan.render.end_card):
        _key_words(doc, plan.translate, plan.transcribe, report)
    doc.save(result.document)
    result.captions = _write_captions(doc, result.document, discard_edits=opts.discard_srt_edits)
    if error is not None:
        raise error  # transcript, source captions and document are saved: nothing is lost
    if opts.until == "review":
        result.stopped_for_review = True
        report.say(f"ready for review: {result.document}")
        return result
    _stop_if_rough(doc, result.document, plan.translate.translator, opts.accept_rough)
    _stop_if_crowded(doc, result.document, [t for t, _s in jobs])
    if opts.approved_only and doc.review.state != "approved":
        raise BilingoError(f"{result.document.name} is not approved: review and approve it first "
                           f"({hint('review', result.document)}, {hint('approve', result.document)}), or add "
                           "--force to render the draft", ExitCode.NEEDS_REVIEW)
    result.render_keys = reused.keys if reused else render_keys(doc, plan)
    pending = []
    for target, seconds in jobs:
        path = _inside(out, f"{stem}.{target.preset.id}.mp4")
        key = result.render_keys[target.preset.id]
        if doc.renders.get(target.preset.id, {}).get("key") == key and path.is_file():
            report.say(f"{path.name} is up to date")
        else:
            pending.append((target, seconds, key))
        result.outputs.append(path)
        result.covers.append(path.with_suffix(".jpg"))
    editions = []
    for edition in _editions(doc, info, jobs, plan.render, result.render_keys, report):
        path = _inside(out, f"{stem}.{edition.name}")
        if doc.renders.get(edition.name[:-4], {}).get("key") == edition.key and path.is_file():
            report.say(f"{path.name} is up to date")
        else:
            editions.append(edition)
        result.editions.append(path)
    if pending or editions:
        try:
            result.render_log.update(_render(info, doc, result.document, pending, plan, report, editions))
        except BilingoError as err:  # the earlier outputs are kept, and said to be out of date
            stale = [f"{stem}.{t.preset.id}.mp4" for t, _s, _k in pending
                     if (out / f"{stem}.{t.preset.id}.mp4").is_file()]
            if stale and not isinstance(err, StaleDocument):
                err.args = (f"{err}; {', '.join(stale)} {'is' if len(stale) == 1 else 'are'} from an earlier run and "
                            "do not show the current captions (kept; the next successful run replaces them)",)
            raise
    return result


def probe_key(path: Path) -> str:
    """The recording file as it is now: path, size and modification time. Its content is not hashed:
    the decoded audio's hash is the recording's identity (model.Source)."""
    st = path.stat()
    return stage_key("probe", str(path.resolve()), st.st_size, st.st_mtime_ns, code=("bilingo.media",))


def audio_key(probe: str, stream: int = 0) -> str:
    """The decoded audio: the file (its probe key), its audio stream `stream`, decoded to 16 kHz mono by
    media's code."""
    return stage_key("audio", probe, media.SAMPLE_RATE, *((stream,) if stream else ()), code=("bilingo.media",))


def cues_key(transcribe_key: str, profile: str) -> str:
    """The cues cut from a transcript under a caption profile, by the segmentation code."""
    return stage_key("cues", transcribe_key, profile,
                     code=("bilingo.segment", "bilingo.figures", "bilingo.rules", "bilingo.layout"))


def translate_key(cues: str, translate: TranslatePlan) -> str:
    """The translations of those cues: the translator, its endpoint, the content of each memory and
    glossary file, and the translation code."""
    return stage_key("translate", cues, translate.translator, translate.url,
                     [content_hash(m) for m in translate.memory_files],
                     [content_hash(g) for g in translate.glossary_files], code=("bilingo.translate",))


def stage_keys(doc: ClipDocument | None, recording: Path, opts: RunOptions) -> StageKeys:
    """Each stage's key for a run of `opts` on `recording` beside its clip document, computed once each
    without decoding anything: the transcript's key takes the audio's hash from the document, when the
    document holds the audio of this very file (else only the probe and audio keys are known)."""
    probe = probe_key(recording)
    stream = opts.audio_stream if opts.audio_stream is not None else doc.source.audio_stream if doc else 0
    audio = audio_key(probe, stream)
    if doc is None or doc.keys.get("audio") != audio:
        return StageKeys(probe, audio)
    return _later_keys(StageKeys(probe, audio), doc, _Audio.known(doc.source), opts)


def _later_keys(keys: StageKeys, doc: ClipDocument | None, audio: "_Audio", opts: RunOptions) -> StageKeys:
    """`keys` with the transcript's, the cues' and the translation's keys filled in (those not given). A
    render of the document as it is takes them from the document: it does none of these stages."""
    if opts.render_only and doc is not None:
        return replace(keys, **{k: keys.__dict__[k] or doc.keys.get(k, "") for k in ("transcribe", "cues", "translate")})
    transcribe = keys.transcribe or _transcript_key(audio.sha256, opts.transcribe, resolve(opts.transcribe.model))
    cues = keys.cues or cues_key(transcribe, caption_profile(opts))
    return replace(keys, transcribe=transcribe, cues=cues, translate=keys.translate or translate_key(cues, opts.translate))


class _Audio:
    """The recording's decoded audio, decoded when first needed. A run whose clip document holds the
    audio stage under the same key (the same file, decoded the same way) knows the audio's identity
    (hash and length) without decoding it: only transcription and Whisper's translation need samples."""

    def __init__(self, info: media.MediaInfo | None, report: Reporter | None, key: str = "", sha256: str = "",
                 duration_ms: int = 0):
        self.info, self.report, self.key = info, report, key
        self._samples, self._sha256, self._duration_ms = None, sha256, duration_ms

    @classmethod
    def known(cls, source: Source, key: str = "") -> "_Audio":
        return cls(None, None, key, source.audio_sha256, source.duration_ms)

    @property
    def samples(self):
        if self._samples is None:
            with self.report.stage("extract audio") as progress:
                self._samples = media.extract_audio(self.info.path, self.info.duration_ms, progress,
                                                    stream=self.info.audio_stream)
        return self._samples

    @property
    def sha256(self) -> str:
        if not self._sha256:
            self._sha256 = media.audio_sha256(self.samples)
        return self._sha256

    @property
    def duration_ms(self) -> int:
        return self._duration_ms or len(self.samples) * 1000 // media.SAMPLE_RATE


def _audio(info: media.MediaInfo, old: ClipDocument | None, key: str, opts: RunOptions, report: Reporter) -> _Audio:
    """The audio stage: the document's record of it when its key is unchanged, else a decode (when needed)."""
    if old is not None and old.keys.get("audio") == key and "transcribe" not in opts.redo:
        audio = _Audio.known(old.source, key)
        audio.info, audio.report = info, report  # samples, should a stage need them after all
        return audio
    audio = _Audio(info, report, key)
    audio.samples  # decoded now: its length says whether the file is whole
    return audio


def _retranslation(doc: ClipDocument, old: ClipDocument | None, keys: StageKeys, plan: Plan, opts: RunOptions,
                   report: Reporter) -> bool:
    """Whether machine translations found in the memory may be used. A draft whose translations were made
    under another translate key (another translator, memory or glossary) is translated again, a person's
    text kept; an approved clip's reviewed text always stands, and is said to."""
    translator = plan.translate.translator
    made_with = doc.keys.get("translate")
    if "translate" in opts.redo:
        return False
    if (opts.render_only or old is None or translator == "none" or not doc.translated or not made_with
            or made_with == keys.translate):
        was = doc.translator or doc.settings.get("translator", "")
        if doc.translated and was and was != translator and not opts.render_only:
            report.say(f"note: the translations are {was}'s and are kept, not redone with --translator "
                       f"{translator} (add --redo translate to translate again; edited cues are kept)")
        return True
    if doc.review.state == "approved":
        report.say(f"note: {doc.translator}'s translations were approved and are kept, although the translation "
                   "settings changed (add --redo translate to translate again; edited cues are kept)")
        return True
    other = doc.translator != translator
    _redo_translation(doc, report, f"the translation settings changed (--translator {translator}, was "
                                   f"{doc.translator})" if other else "a --memory or --glossary file changed")
    return not other  # the same translator (a memory or glossary changed): its earlier output may be reused


def plan_for(old: ClipDocument | None, doc_path: Path, opts: RunOptions, report: Reporter) -> Plan:
    """The one resolved plan of this command: the clip's stored plan (a new clip: the defaults) with this
    command's render choices on top; what they change, and a migrated document's assumption, are said."""
    base = old.plan if old is not None else RenderPlan()
    if old is not None and (note := old.migration_note(doc_path)):
        report.say(note)
    wanted = changed(base, opts.render)
    plan = resolve_plan(wanted, opts.transcribe, opts.translate)
    if old is not None and (differ := describe(base, wanted)):
        report.say(f"render plan changed: {'; '.join(differ)}")
    if old is not None and base.edition and not wanted.edition:  # its videos are finished outputs: kept
        kept = [r["file"] for k, r in old.renders.items()
                if k.endswith(f".{base.edition}") and (doc_path.parent / r["file"]).is_file()]
        if kept:
            report.say(f"note: {', '.join(kept)} {'is' if len(kept) == 1 else 'are'} from the earlier plan; "
                       "kept (delete what you no longer want)")
    if old is not None and (note := presets_file_note(base, plan)):
        report.say(note)
    return plan


def _audio_stream(info: media.MediaInfo, old: ClipDocument | None, document: Path, asked: int | None,
                  report: Reporter) -> media.MediaInfo:
    """The audio stream bilingo listens to and the outputs carry: --audio-stream; else the one the clip
    document was made from; else, of several, the one with the most speech in its first minute."""
    n = info.audio_streams
    if asked is not None and not 0 <= asked < n:
        raise BilingoError(f"--audio-stream {asked}: {info.path.name} has {n} audio stream{'s' if n > 1 else ''} "
                           f"(0 to {n - 1})", ExitCode.BAD_INPUT)
    made_from = old.source.audio_stream if old is not None else None
    if asked is not None and made_from is not None and asked != made_from:
        raise BilingoError(f"{document.name} was made from audio stream {made_from}; to caption stream {asked}, "
                           "choose another --out folder or move that file aside (it may hold review edits)",
                           ExitCode.BAD_INPUT)
    k = asked if asked is not None else made_from if made_from is not None and made_from < n else 0
    if asked is None and made_from is None and n > 1:
        speech = media.speech_per_stream(info.path, n)
        k = max(range(n), key=lambda i: (speech[i], -i))  # the most speech; the first of equals
        report.say(f"audio: listening to stream {k} of {info.path.name}'s {n} audio streams (0 to {n - 1}), "
                   f"{speech[k]:.0f} s of speech in its first {media.SPEECH_PROBE_S} s; choose another with "
                   "--audio-stream N")
    return replace(info, audio_stream=k)


def _check_durations(info: media.MediaInfo, targets: tuple[Target, ...],
                     trim: bool) -> tuple[list[tuple[Target, float]], list[str]]:
    """Each output with the seconds it renders, and a line for each preset this recording does not
    fit (too short, or too long without --trim). None fitting is an error, before any work."""
    seconds = info.duration_ms / 1000
    jobs, skipped = [], []
    for t in targets:
        p = t.preset
        if p.min_duration_s and seconds < p.min_duration_s:
            skipped.append(f"skipping {p.id}: {info.path.name} lasts {seconds:.1f} s but {p.id} takes "
                           f"{p.min_duration_s:g} s to {p.max_duration_s or float('inf'):g} s")
        elif p.max_duration_s and seconds > p.max_duration_s and not trim:
            skipped.append(f"skipping {p.id}: {info.path.name} lasts {seconds:.1f} s but {p.id} takes "
                           f"{p.min_duration_s:g} s to {p.max_duration_s:g} s (--trim cuts it to fit)")
        else:
            jobs.append((t, min(seconds, p.max_duration_s) if p.max_duration_s else seconds))
    if not jobs:
        raise BilingoError("; ".join(skipped) + ": nothing to render", ExitCode.BAD_INPUT)
    return jobs, skipped


def _inside(out: Path, name: str) -> Path:
    """An output path, refused unless it stays inside the output folder."""
    path = out / name
    if path.resolve().parent != out.resolve():
        raise BilingoError(f"output name {name!r} would leave {out}", ExitCode.BAD_INPUT)
    return path


def _output_folder(out: Path, stem: str, targets: tuple[Target, ...]) -> Path:
    """The output folder, made and checked before any work is done for it."""
    if out.exists() and not out.is_dir():
        raise BilingoError(f"{out} is a file; --out needs a folder", ExitCode.BAD_INPUT)
    check_writable(out)  # a read-only, full or pseudo file system fails now, not after transcribing
    try:
        out.mkdir(parents=True, exist_ok=True)
        name_max = os.pathconf(out, "PC_NAME_MAX")
    except OSError as exc:
        raise BilingoError(f"cannot use {out} as the output folder: {exc.strerror}", ExitCode.BAD_INPUT) from exc
    longest = max([f"{stem}.bilingo.json", *(f"{stem}.{t.preset.id}.mp4" for t in targets)], key=lambda n: len(os.fsencode(n)))
    if len(os.fsencode(longest)) > name_max:
        raise BilingoError(f"the output name {longest[:40]}… is longer than this file system allows ({name_max} "
                           "bytes); rename the recording", ExitCode.BAD_INPUT)
    sweep_leftovers(out)
    return out


def _check_engine(topts: TranscribeOptions) -> None:
    """The model and engine asked for exist (a missing folder or engine fails before any work)."""
    import importlib.util

    resolve(topts.model)
    if topts.engine == "openai-whisper" and not all(importlib.util.find_spec(m) for m in ("torch", "whisper")):
        from .transcribe.openai import NOT_INSTALLED

        raise BilingoError(NOT_INSTALLED, ExitCode.TOOL_MISSING)


def _decoded(info: media.MediaInfo, audio: _Audio, report: Reporter) -> media.MediaInfo:
    """A truncated file is rendered as long as its audio, not as its header claims."""
    decoded_ms = audio.duration_ms
    if decoded_ms < 0.9 * info.duration_ms:
        report.say(f"warning: only {decoded_ms / 1000:.1f} s of {info.duration_ms / 1000:.1f} s of audio could be "
                   "decoded; the file may be truncated")
        return replace(info, duration_ms=decoded_ms)
    return info


def _document(info: media.MediaInfo, audio: _Audio, old: ClipDocument | None, result: RunResult, opts: RunOptions,
              report: Reporter, keys: StageKeys) -> ClipDocument:
    """The recording's clip document: the existing one (with its review edits), or a new one."""
    sha = audio.sha256
    if old is not None and old.source.audio_sha256 != sha:
        raise BilingoError(
            f"{result.document} belongs to a different recording with the same name; "
            "choose another --out folder or move that file aside (it may hold review edits)",
            ExitCode.BAD_INPUT,
        )
    if old is not None and "transcribe" not in opts.redo:
        old.source = _fingerprinted(old.source, info.path)  # the same audio, perhaps in a touched file
        result.reused_document = True
        edited = sum(1 for c in old.cues if c.edited)
        report.say(f"using {result.document.name}" + (f" and its review edits ({edited} cues)" if edited else ""))
        _say_overrides(old, opts, report)
        return _redo_translation(old, report) if "translate" in opts.redo else old
    if old is not None:
        edited = sum(1 for c in old.cues if c.edited)
        if edited and not opts.force:
            raise BilingoError(f"--redo transcribe replaces all {len(old.cues)} cues of {result.document.name}, "
                               f"{edited} of them edited by a person; add --force to replace them", ExitCode.BAD_INPUT)
        report.say(f"transcribing again: {len(old.cues)} cues ({edited} edited by a person) will be replaced")
    transcript, result.transcript_cached = _transcript(audio, keys.transcribe, opts.transcribe, report)
    if not transcript.words:
        where = other = ""
        if info.audio_streams > 1:  # say which stream was heard, and how to give bilingo another
            where = f" in audio stream {info.audio_stream} of its {info.audio_streams}"
            other = f"; caption another with --audio-stream N (0 to {info.audio_streams - 1})"
        raise BilingoError(f"{info.path.name}: no speech found{where} (silence, noise or music); nothing to caption"
                           f"{other}", ExitCode.NO_SPEECH)
    with report.stage("segment"):
        cues = segment.segment(transcript, profile=rules.profile(caption_profile(opts), transcript.language))
        cues = figures.tidy(cues, transcript.language, ("source",))  # Whisper's figures one way
        cues = attach_words(assign_ids(cues), transcript.words)
    source = _fingerprinted(Source(path=str(info.path), audio_sha256=sha, duration_ms=info.duration_ms,
                                   has_video=info.has_video, width=info.width, height=info.height,
                                   audio_stream=info.audio_stream), info.path)
    doc = ClipDocument(source=source, transcript=transcript, cues=cues, settings=_settings(opts),
                       revision=old.revision if old else 0, plan=old.plan if old else RenderPlan(),
                       keys={"transcribe": keys.transcribe, "cues": keys.cues})
    doc.save(result.document)
    return doc


def _fingerprinted(source: Source, path: Path) -> Source:
    """`source` with the size and modification time of the file its audio was just decoded from."""
    st = path.stat()
    return replace(source, file_size=st.st_size, file_mtime_ns=st.st_mtime_ns)


def _settings(opts: RunOptions) -> dict:
    """The options a clip document is made with: a later run that asks for others is told."""
    t = opts.transcribe
    return {"transcribe": {"model": t.model, "engine": t.engine, "language": t.language, "beam_size": t.beam_size,
                           "batch_size": t.batch_size, "languages": ",".join(t.languages)},
            "translator": opts.translator, "profile": caption_profile(opts)}


def caption_profile(opts: RunOptions) -> str:
    """The caption profile a run uses: --profile, else learner for bilingual output, native for one language."""
    return opts.profile or ("native" if opts.translator == "none" else "learner")


_FLAGS = {"model": "--model", "engine": "--engine", "language": "--language", "beam_size": "--beam-size",
          "batch_size": "--batch-size", "languages": "--languages"}


def _say_overrides(doc: ClipDocument, opts: RunOptions, report: Reporter) -> None:
    """Name every option of this run that the existing document's work overrides, and how to redo it."""
    made = doc.settings.get("transcribe") or {"model": doc.transcript.model, "engine": doc.transcript.engine}
    wanted = _settings(opts)
    differ = [k for k, v in wanted["transcribe"].items() if k in made and made[k] != v]
    if differ:
        was = " ".join(f"{_FLAGS[k]} {made[k]}" for k in differ if made[k] is not None)
        now = " ".join(f"{_FLAGS[k]} {wanted['transcribe'][k]}" for k in differ)
        report.say(f"note: the transcript was made with {was or 'the defaults'}; it is kept, not redone with {now} "
                   "(add --redo transcribe to transcribe again)")
    made_for = doc.settings.get("profile", "native")
    if opts.profile and opts.profile != made_for:
        report.say(f"note: the cues were cut for the {made_for} caption profile; they are kept, not cut again for "
                   f"--profile {opts.profile} (add --redo transcribe to cut them again)")


def _redo_translation(doc: ClipDocument, report: Reporter, why: str = "") -> ClipDocument:
    """Clear every machine translation so the translate stage runs again; a person's text stays."""
    from .translate import MACHINE

    kept = sum(1 for c in doc.cues if doc.target_of(c) in c.edited)
    doc.cues = [c if doc.target_of(c) in c.edited else
                replace(c.with_text(doc.target_of(c), ""), flags=tuple(f for f in c.flags if f != MACHINE))
                for c in doc.cues]
    doc.translator = ""
    report.say(f"translating again{' (' + why + ')' if why else ''}; {kept} cues edited by a person are kept")
    return doc


def _existing_document(path: Path) -> ClipDocument | None:
    return ClipDocument.load(path) if path.exists() else None


def _transcript_key(sha: str, topts: TranscribeOptions, ref: ModelRef) -> str:
    """Everything that changes a transcript: the audio, the engine and the settings passed to it,
    the model's files, and the transcription code itself (bilingo.cache hashes its source)."""
    return stage_key("transcribe", sha, topts.engine, decode_settings(topts, ref.multilingual), topts.batch_size,
                     list(topts.languages), ref.identity or ref.name, code=("bilingo.transcribe",))


def _transcript(audio: _Audio, key: str, topts: TranscribeOptions, report: Reporter) -> tuple[Transcript, bool]:
    """Transcribe, or reuse the cached transcript under the same key (`_transcript_key`: the same audio
    with the same settings and code). Any unreadable cache entry is a miss, removed, never fatal."""
    if note := one_language_note(topts, resolve(topts.model).multilingual):
        report.say(note)
    cached = cache_dir() / "transcripts" / f"{key}.json"
    try:
        if cached.is_dir() and not cached.is_symlink():
            shutil.rmtree(cached)
        elif cached.exists():
            transcript = Transcript.from_json(cached.read_bytes())
            report.say("transcript found in the cache: not transcribing again")
            return transcript, True
    except (OSError, ValueError):
        _discard(cached)
    with report.stage(f"transcribe ({topts.model})") as progress:
        transcript = transcribe(audio.samples, topts, progress)
    mixed = ", ".join(f"{lang} {len(run)} words" for lang, run in transcript.runs()) if transcript.spans else ""
    report.say(f"language: {transcript.language} (p={transcript.language_probability:.2f}), "
               f"{len(transcript.words)} words" + (f"; stretches: {mixed}" if mixed else ""))
    try:
        atomic_write_text(cached, json.dumps(asdict(transcript), ensure_ascii=False))
    except (OSError, BilingoError) as exc:  # a cache that cannot be written costs time, not the run
        report.say(f"warning: cannot cache the transcript in {cached.parent} ({exc})")
    return transcript, False


def _discard(path: Path) -> None:
    try:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)
    except OSError:
        pass


def _translate(doc: ClipDocument, audio: _Audio | None, translate: TranslatePlan, transcribe: TranscribeOptions,
               report: Reporter, doc_path: Path, use_machine: bool = True) -> TranslatorUnavailable | None:
    """Fill the target language of the cues that lack it (never a cue a person edited), by sentence,
    from the memory first (its machine entries too unless not `use_machine`: a new translation was asked
    for); the error says how many cues remain and how to finish them. A recording that mixes languages
    is translated run by run, each run in its own direction (English → Chinese, Mandarin → English),
    into the one document."""
    if translate.translator == "none":
        return None
    memory = TranslationMemory(shared_memory_path(), list(translate.memory_files))
    memory.use_machine = use_machine
    chains: dict[str, list] = {}
    error: TranslatorUnavailable | None = None
    try:
        runs = _runs(doc)
        if doc.translated:
            for lang, first, last in runs:
                remember_edits(doc.cues[first:last], lang, memory)
            return None
        if audio is not None and any(lang == "zh" for lang, _f, _l in runs) and resolve(transcribe.model).multilingual:
            audio.samples  # Whisper's translate task listens to it: decoded now, not inside the translate stage
        with report.stage("translate") as progress:
            for lang, first, last in runs:
                # a chain per run: a translator is stopped once its run is done (batches never outlive it)
                chains[lang] = _translators(doc, audio, translate, transcribe, lang)
                share = (last - first) / len(doc.cues)
                done = first / len(doc.cues)
                part, err = translate_cues(doc.cues[first:last], lang, memory, chains[lang], notice=report.say,
                                           progress=lambda f, d=done, s=share: progress(d + s * f))
                doc.cues[first:last] = part  # each translator checks its own glossary
                error = error or err
    finally:
        memory.close()
    if error is None:
        doc.cues = segment.fit_pair(doc.cues, doc.language, profile=rules.of_document(doc))  # split, or flagged
        doc.cues = figures.tidy(doc.cues, doc.language, ("target",))  # figures one way, and kept
        doc.cues = attach_words(assign_ids(doc.cues), doc.transcript.words)
    doc.translator = translate.translator
    missing = sum(1 for c in doc.cues if not c.text(doc.target_of(c)).strip())
    if not missing:
        return None
    resume = hint("translate", doc_path)
    if error is None and chains and all(chain and chain[-1].name == "whisper" for chain in chains.values()):
        return TranslatorUnavailable(f"Whisper gave no English for {missing} of {len(doc.cues)} cues; write them in "
                                     "the clip document (or a --memory file) and rerun; the clip stays reviewable")
    why = str(error) if error is not None else "the translator gave nothing for them"
    return TranslatorUnavailable(f"{why}: {missing} of {len(doc.cues)} cues still need a translation; {resume} "
                                 "translates only those (rerun when online or with another --translator); "
                                 "offline, give your own translations with --memory FILE (JSON or TSV), or "
                                 "caption in the spoken language only with --translator none; "
                                 "the clip stays reviewable")


def _runs(doc: ClipDocument) -> list[tuple[str, int, int]]:
    """Consecutive cues spoken in one language: (language, first, last) with cues[first:last]."""
    out: list[tuple[str, int, int]] = []
    for k, cue in enumerate(doc.cues):
        lang = doc.source_of(cue)
        if out and out[-1][0] == lang:
            out[-1] = (lang, out[-1][1], k + 1)
        else:
            out.append((lang, k, k + 1))
    return out


def _stop_if_crowded(doc: ClipDocument, document: Path, targets: list[Target]) -> None:
    """A cue that needs more lines in a language than a preset allows (a hard rule) is not burned into a
    video a person has not approved: the run stops for review, with the exit code `approve` gives for a
    broken hard rule (`approve --force` accepts the cue as it is)."""
    if doc.review.state == "approved":
        return
    crowded = []
    for t in targets:
        limit = t.preset.captions.max_lines
        for n, cue in enumerate(doc.cues, 1):
            lines = ass.caption_lines(cue, t.preset)
            crowded += [(n, lang, len(lines[lang]), t.preset.id, limit) for lang in ("en", "zh")
                        if len(lines.get(lang, ())) > limit]
    if not crowded:
        return
    n, lang, count, preset, limit = crowded[0]
    more = f" and {len(crowded) - 1} more" if len(crowded) > 1 else ""
    raise BilingoError(f"not rendered: cue {n} [{lang}] needs {count} lines in {preset} (at most {limit}){more}; "
                       f"shorten or split it ({hint('review', document)}), or approve it as it is "
                       f"({hint('approve', document, '--force')}) and render", ExitCode.NEEDS_REVIEW)


def retranslate(doc: ClipDocument, ids: list[str], doc_path: Path) -> str:
    """Translate again the cues `ids`, whose spoken language a person just changed on the review page, each
    in its new direction and nothing else: the shared memory first, then the translator the clip was made
    with (no Whisper: a save does not listen to the recording). A cue neither could translate is flagged
    UNTRANSLATED; the message says so and what to do (`bilingo translate` fills it, or a person writes it)."""
    from .translate import UNTRANSLATED

    translator = doc.translator or str(doc.settings.get("translator") or "none")
    plan = TranslatePlan(translator)
    memory = TranslationMemory(shared_memory_path())
    done, left, why = [], [], ""
    try:
        for k, cue in enumerate(doc.cues):
            if cue.id not in ids:
                continue
            source = doc.source_of(cue)
            try:
                chain = [] if translator in ("none", "whisper") else _translators(doc, None, plan, TranscribeOptions(), source)
                part, err = translate_cues([cue], source, memory, chain)
            except BilingoError as exc:  # a translator that cannot even be set up: the cue waits, the save stands
                part, err = [cue], exc
            cue = doc.cues[k] = part[0]
            if cue.text(doc.target_of(cue)).strip():
                done.append(k + 1)
                continue
            doc.cues[k] = replace(cue, flags=tuple(dict.fromkeys((*cue.flags, UNTRANSLATED))))
            left.append(k + 1)
            why = why or (str(err) if err else "the translation memory does not know it" +
                          (f" and {translator} gave nothing" if chain else f" and the clip has no translator "
                                                                            f"(--translator {translator})"))
    finally:
        memory.close()
    said = []
    if done:
        said.append(f"cue {', '.join(map(str, done))} translated again in its new direction")
    if left:
        said.append(f"cue {', '.join(map(str, left))} left untranslated: {why}; write its translation here, or run "
                    f"{hint('translate', doc_path)} with a translator that can be reached")
    return "; ".join(said)


def _stop_if_rough(doc: ClipDocument, document: Path, translator: str, accept_rough: bool) -> None:
    """Whisper's rough translation stood in for an unreachable translator: a person sees it before it is
    burned into a video (as when translation fails), unless they asked for it, chose Whisper, or approved."""
    rough = rough_cues(doc.cues, doc.target_of)  # each cue's own translation: a mixed clip's English cues have none
    if not rough or accept_rough or translator == "whisper" or doc.review.state == "approved":
        return
    raise TranslatorUnavailable(
        f"not rendered: the English of {rough} of {len(doc.cues)} cues is Whisper's rough "
        f"translation of the speech (the {translator} translator could not be reached); review it "
        f"(`bilingo review {document}`), rerun online with --redo translate, or add --accept-rough to render it "
        "as it is")


def _key_words(doc: ClipDocument, translate: TranslatePlan, transcribe: TranscribeOptions, report: Reporter) -> None:
    """Choose the clip's key words (a person's choices kept) and gloss those without a gloss: from the
    memory, the text translator when there is one, else the dictionary."""
    from .learn import gloss, keywords

    with report.stage("key words"):
        doc.cues = keywords.choose(doc)
        memory = TranslationMemory(shared_memory_path(), list(translate.memory_files))
        try:  # each language's key words (a clip may mix them) glossed by a translator from that language
            for lang in dict.fromkeys(k.lang for c in doc.cues for k in c.keywords):
                texts = [t for t in (_translators(doc, None, translate, transcribe, lang)
                                     if translate.translator not in ("none", "whisper") else [])
                         if hasattr(t, "translate")]
                doc.cues = gloss.gloss(doc.cues, lang, memory, texts[0] if texts else None, notice=report.say)
        finally:
            memory.close()


def _translators(doc: ClipDocument, audio: _Audio | None, translate: TranslatePlan, transcribe: TranscribeOptions,
                 source: str) -> list:
    """The chosen translator from `source`, then (for Chinese speech) Whisper's offline translate task
    (the transcription's model, on the audio: decoded now if the run had not needed it yet)."""
    chain: list = []
    glossary = Glossary.load(translate.glossary_files)
    target = other_language(source)
    if translate.translator == "openai":
        chain.append(ChatTranslator(source, target, translate.url, glossary=glossary))
    elif translate.translator != "whisper":
        chain.append(PlainTranslator(translate.translator, source, target, translate.url, glossary=glossary))
    if source == "zh" and audio is not None and resolve(transcribe.model).multilingual:
        chain.append(WhisperTranslator(audio.samples, transcribe.model, transcribe.threads))
    elif translate.translator == "whisper" and not any(doc.source_of(c) == "zh" for c in doc.cues):
        raise BilingoError("--translator whisper turns Chinese speech into English; this recording is English",
                           ExitCode.BAD_INPUT)
    return chain


def _write_captions(doc: ClipDocument, doc_path: Path, discard_edits: bool = False) -> list[Path]:
    """The SRT sidecars (for round trips) and WebVTT files of the document as it is now (review.srt writes
    both), then the document with the sidecars' hashes: what `run`, `translate` and the review page leave."""
    written = review_srt.write_sidecars(doc, doc_path, discard_edits=discard_edits)
    doc.save(doc_path)
    return written


def render_keys(doc: ClipDocument, plan: Plan) -> dict[str, str]:
    """The render key each output of `plan` gets from this document (presets the recording does not
    fit are left out, as a run skips them): the one place render keys are computed."""
    info = media.MediaInfo(path=Path(doc.source.path), duration_ms=doc.source.duration_ms, has_audio=True,
                           has_video=doc.source.has_video)
    try:
        jobs, _ = _check_durations(info, plan.targets, plan.render.trim)
    except BilingoError:  # no preset fits this recording: nothing would be rendered
        return {}
    return {t.preset.id: _render_key(doc, t, seconds, plan.render) for t, seconds in jobs}


def output_keys(doc: ClipDocument, plan: Plan) -> dict[str, str]:
    """The key every output of `plan` would be rendered with now, by the id `doc.renders` gives it (a
    shadowing edition: "PRESET.shadowing"): an output whose recorded key differs is out of date."""
    keys = render_keys(doc, plan)
    if plan.render.edition:  # its frames are planned at the recording's frame rate: probed, as a render does
        info = replace(media.probe(Path(doc.source.path)), duration_ms=doc.source.duration_ms)
        jobs, _ = _check_durations(info, plan.targets, plan.render.trim)
        jobs = [(t, seconds) for t, seconds in jobs if t.preset.id in keys]
        keys |= {e.name[:-4]: e.key for e in _editions(doc, info, jobs, plan.render, keys, Reporter(quiet=True))}
    return keys


def _render_key(doc: ClipDocument, target: Target, seconds: float, render: RenderPlan) -> str:
    """Everything that changes an output: the audio, what is burned (times and both texts; word timings
    for karaoke; key words and glosses for the learner aids), the preset and its resolved style, the render
    options, and the rendering code itself."""
    burned = [(c.start, c.end, c.en, c.zh) for c in doc.cues]
    words = [(w.text, w.start, w.end) for w in doc.transcript.words] if render.karaoke else []
    spoken = [doc.source_of(c) for c in doc.cues] if render.karaoke else []  # karaoke sweeps English speech only
    keys = ([[(k.word, k.gloss) for k in c.keywords if not k.removed] for c in doc.cues]
            if render.key_words or render.end_card else [])
    settings = [render.background, render.fit, render.karaoke, render.speed, render.crf, seconds, render.key_words,
                render.pinyin, keys, render.end_card]
    return stage_key("render", doc.source.audio_sha256, burned, words, spoken, msgspec.to_builtins(target.preset),
                     msgspec.to_builtins(target.style), settings,
                     code=("bilingo.render", "bilingo.layout", "bilingo.formats.ass"))


@dataclass(frozen=True)
class _Edition:
    """A shadowing edition of one output: its planned segments, frame rate, length and render key."""
    target: Target
    segments: tuple
    fps: float
    seconds: float
    key: str

    @property
    def preset(self) -> presets.Preset:
        return self.target.preset

    @property
    def name(self) -> str:
        return f"{self.preset.id}.shadowing.mp4"


def _editions(doc: ClipDocument, info: media.MediaInfo, jobs, render: RenderPlan, keys: dict[str, str],
              report: Reporter) -> list[_Edition]:
    """The shadowing edition of each preset rendered, when asked for; one that would overrun its preset's
    length is skipped and said (or, with --trim, holds the whole sentences that fit)."""
    if render.edition != "shadowing":
        return []
    from .learn import shadowing

    out = []
    for target, seconds in jobs:
        preset = target.preset
        fps = video.edition_fps(info, preset)
        limit = preset.max_duration_s if render.trim else 0.0
        cues = [c for c in doc.cues if c.end <= seconds * 1000]  # a trimmed output's cues
        segments = shadowing.plan(cues, doc.language, fps, render.repeat, render.repeat_tempo, limit)
        total = shadowing.seconds(segments, fps)
        if not segments:
            report.say(f"skipping the {preset.id} shadowing edition: no whole sentence fits")
            continue
        if preset.max_duration_s and total > preset.max_duration_s:
            report.say(f"skipping the {preset.id} shadowing edition: it would last {total:.1f} s but {preset.id} "
                       f"takes at most {preset.max_duration_s:g} s (--trim keeps the sentences that fit)")
            continue
        if total < preset.min_duration_s:
            report.say(f"skipping the {preset.id} shadowing edition: {total:.1f} s is shorter than {preset.id} takes")
            continue
        key = stage_key("shadowing", keys[preset.id], [msgspec.to_builtins(s) for s in segments],
                        code=("bilingo.learn.shadowing",))
        out.append(_Edition(target, tuple(segments), fps, total, key))
    return out


def _edition_file(doc: ClipDocument, edition: _Edition, aids: ass.Aids, work: Path) -> video.Output:
    """The edition's ASS file (its cues re-timed onto the edition) and its output."""
    from .learn import shadowing

    cues = shadowing.retimed(doc.cues, list(edition.segments), edition.fps)
    lines = [ass.caption_lines(c, edition.preset, aids) for c in cues]
    name = f"{edition.preset.id}.shadowing.ass"
    subs = ass.build(cues, edition.preset, lines, edition.target.style)
    (work / name).write_text(subs.to_string("ass"), encoding="utf-8")
    return video.Output(preset=edition.preset, seconds=edition.seconds, ass=name,
                        video_kbps=video.size_limited_kbps(edition.preset, edition.seconds),
                        segments=edition.segments, fps=edition.fps, suffix="shadowing")


def _render(info: media.MediaInfo, doc: ClipDocument, doc_path: Path, jobs, plan: Plan,
            report: Reporter, editions: list[_Edition] = ()) -> dict[str, str]:
    """Every pending output in one ffmpeg process, each verified, then moved into place with its cover
    and listed in the document; nothing is moved unless all of them pass and the document is still the
    one they were rendered from (a save from the review page meanwhile refuses them)."""
    out, stem = doc_path.parent, review_srt.stem_of(doc_path)
    render_plan = plan.render
    english = sum(doc.source_of(c) == "en" for c in doc.cues)  # karaoke sweeps English speech only
    karaoke = render_plan.karaoke and english > 0
    if render_plan.karaoke and not karaoke:
        report.say("note: --karaoke highlights spoken English word by word; this recording is Chinese")
    elif karaoke and english < len(doc.cues):
        report.say(f"note: --karaoke highlights the {english} cues spoken in English; the Mandarin cues' English "
                   "is a translation and is shown plain")
    enc = video.Encoding(speed=render_plan.speed, crf=render_plan.crf)
    ids = ", ".join([*(t.preset.id for t, _s, _k in jobs), *(e.name[:-4] for e in editions)])
    with staging_dir(out) as work, report.stage(f"render {ids}") as progress:
        aids = ass.Aids(key_words=render_plan.key_words, pinyin=render_plan.pinyin)
        outputs = [_captions_file(doc, target, seconds, karaoke, work, report, aids,
                                  _card_seconds(doc, target.preset, seconds, render_plan, report),
                                  video.edition_fps(info, target.preset))
                   for target, seconds, _key in jobs]
        outputs += [_edition_file(doc, e, aids, work) for e in editions]
        measured = video.measure_loudness(info, outputs[0].preset.loudness, max(o.seconds for o in outputs))
        render = lambda outs, prog: video.render(info, outs, work, backdrop=plan.backdrop,  # noqa: E731
                                                 fit=render_plan.fit, measured=measured, enc=enc, progress=prog)
        log = render(outputs, progress)
        if video.TOFU in log:
            report.say(f"warning: some characters have no glyph in the caption font ({ids})")
        outputs = [_verified(o, work, render, report) for o in outputs]
        whole = [o for o in outputs if not o.suffix]
        if whole:
            at = _cover_at(doc.cues[0] if doc.cues else None, karaoke)
            video.covers(whole, [min(at, max(o.seconds - 0.2, 0.0)) for o in whole], work)  # a frame there
        with document_lock(doc_path):
            doc.check_current(doc_path)  # refused before anything is moved: the folder stays as it was
            for o in outputs:
                if not o.suffix:
                    os.replace(work / f"{o.preset.id}.jpg", _inside(out, f"{stem}.{o.preset.id}.jpg"))
                os.replace(work / o.name, _inside(out, f"{stem}.{o.name}"))
            for target, _seconds, key in jobs:
                doc.renders[target.preset.id] = {"file": f"{stem}.{target.preset.id}.mp4", "key": key}
            for edition in editions:
                doc.renders[edition.name[:-4]] = {"file": f"{stem}.{edition.name}", "key": edition.key}
            doc.save(doc_path)
    return {o.name[:-4]: log for o in outputs}


def _card_seconds(doc: ClipDocument, preset: presets.Preset, seconds: float, render: RenderPlan,
                  report: Reporter) -> float:
    """How long the end card lasts (0: none): long enough to read its words, within the preset's length."""
    from .learn import card

    if not render.end_card:
        return 0.0
    words = card.words(doc.cues)
    if not words:
        report.say(f"note: {preset.id}: no key word has a gloss, so there is no end card")
        return 0.0
    length = card.seconds(len(words))
    if preset.max_duration_s and seconds + length > preset.max_duration_s:
        report.say(f"note: {preset.id}: no end card, the clip already fills the {preset.max_duration_s:g} s it allows")
        return 0.0
    return length


def _cover_at(first: Cue | None, karaoke: bool) -> float:
    """When each preset's cover is taken (s): the middle of the first cue; with karaoke, its last moment,
    once every word is swept (mid-cue, half the English line was in the highlight colour)."""
    if first is None:
        return 0.5
    return (max(first.start, first.end - 40) if karaoke else (first.start + first.end) / 2) / 1000


def _captions_file(doc: ClipDocument, target: Target, seconds: float, karaoke: bool, work: Path,
                   report: Reporter, aids: ass.Aids = ass.Aids(), card_s: float = 0.0,
                   fps: float = 0.0) -> video.Output:
    """The preset's ASS file in the scratch folder; cues that need too many lines are named."""
    preset, style = target.preset, target.style
    lines = [ass.caption_lines(c, preset, aids) for c in doc.cues]
    crowded = [str(i) for i, ls in enumerate(lines, 1) if ass.overflowing(preset, style, ls)]
    if crowded:
        report.say(f"warning: {preset.id}: cue {', '.join(crowded[:8])}{'…' if len(crowded) > 8 else ''} needs more "
                   f"than {preset.captions.max_lines} lines or leaves the safe area; shorten it in the clip document")
    words = ass.sung_words(doc.cues, doc.transcript.words, doc.source_of) if karaoke else None
    subs = ass.build(doc.cues, preset, lines, style, words)
    if card_s:
        from .learn import card

        card.add(subs, card.words(doc.cues), preset, style, round(seconds * 1000), round((seconds + card_s) * 1000))
    name = f"{preset.id}.ass"
    (work / name).write_text(subs.to_string("ass"), encoding="utf-8")
    kbps = video.size_limited_kbps(preset, seconds + card_s)
    return video.Output(preset=preset, seconds=seconds, ass=name, video_kbps=kbps, card_s=card_s, fps=fps)


def _verified(o: video.Output, work: Path, render, report: Reporter, tries: int = 2) -> video.Output:
    """The output when it matches its preset; a size overrun is encoded again, alone, at a lower cap."""
    for attempt in range(tries + 1):
        found = verify.problems(work / o.name, o.preset, o.total_s)
        if not found:
            return o
        over = o.preset.max_bytes and (work / o.name).stat().st_size > o.preset.max_bytes
        if not over or attempt == tries:
            break
        o = replace(o, video_kbps=int(o.video_kbps * 0.8))
        report.say(f"{o.preset.id}: over its size limit; encoding again at {o.video_kbps} kb/s")
        render([o], lambda _f: None)
    raise BilingoError(f"{o.preset.id} did not come out as the preset requires: {'; '.join(found)}",
                       ExitCode.RENDER_FAILED)


# --- what the commands and the review server call on a saved clip document --------------------------

def render_document(doc_path: Path, plan: Mapping[str, Any] | RenderPlan | None = None,
                    report: Reporter | None = None, *, force: bool = False,
                    progress: Callable[[str, float], None] | None = None,
                    known: KnownKeys | None = None) -> RunResult:
    """Render what the clip's plan asks (with `plan`'s changes, which are saved as its new plan) from a
    saved document: only an approved clip unless `force`; `progress(stage, fraction)` follows the work.
    Nothing is transcribed or translated: the document is what is burned."""
    doc = ClipDocument.load(doc_path)
    recording = Path(doc.source.path)
    if not recording.is_file():
        raise BilingoError(f"{doc_path.name}: its recording {recording} is gone; put it back to render",
                           ExitCode.BAD_INPUT)
    if not force and doc.review.state != "approved":  # before any work
        raise BilingoError(f"{doc_path.name} is not approved: review and approve it first "
                           f"({hint('review', doc_path)}, {hint('approve', doc_path)}), or add --force to render "
                           "the draft", ExitCode.NEEDS_REVIEW)
    topts, _translator = from_document_settings(doc.settings)
    # a translated clip: the translate stage only remembers review edits; an untranslated one is not sent out
    opts = RunOptions(out_dir=doc_path.parent, transcribe=topts, render=plan or {},
                      translator=(doc.translator or _translator) if doc.translated else "none",
                      approved_only=not force, render_only=True)
    return run(recording, opts, with_progress(report or Reporter(quiet=True), progress), known)


def translate_document(doc_path: Path, translate: TranslatePlan, report: Reporter) -> ClipDocument:
    """Translate the cues of a saved clip that still lack a translation (never a person's text), then
    write its captions (SRT and WebVTT) and save it; a translator that fails raises after the save."""
    doc = ClipDocument.load(doc_path)
    source = Path(doc.source.path)
    audio = None
    spoken_zh = any(doc.source_of(c) == "zh" for c in doc.cues)
    if spoken_zh and source.is_file():  # Whisper's translate task listens to the cues: decoded if it is used
        audio = _Audio(media.MediaInfo(path=source, duration_ms=doc.source.duration_ms, has_audio=True,
                                       has_video=doc.source.has_video, audio_stream=doc.source.audio_stream), report)
    elif translate.translator == "whisper" and spoken_zh:
        raise BilingoError(f"--translator whisper listens to the recording, and {source} is not there",
                           ExitCode.BAD_INPUT)
    topts, _ = from_document_settings(doc.settings)
    review_srt.check_sidecars(doc, doc_path)  # a person's SRT edit is imported first, never overwritten
    translated = doc.translated
    error = _translate(doc, audio, translate, topts, report, doc_path)
    if error is None and translate.translator != "none" and doc.translated and not translated and "cues" in doc.keys:
        doc.keys["translate"] = translate_key(doc.keys["cues"], translate)
    _write_captions(doc, doc_path)  # also after a failure: the cues translated so far are in the VTTs
    if error is not None:
        raise error
    return doc


LINE_RULES = {"line-length", "lines", "line-width"}  # what differs between outputs (timing does not)


@dataclass
class LintResult:
    problems: list  # (where, rules.Violation): "" for the sidecar lines, "PRESET: " for a frame's lines
    key_words: list  # (cue number, why): key words a person should look at
    doc: ClipDocument
    checked: list[str]  # the preset ids whose frames were checked
    profile: str  # the caption profile the clip was cut for


def lint_document(doc_path: Path, presets: list[str] | None = None, presets_file: Path | None = None) -> LintResult:
    """The rules on the sidecar lines (character limits, reading speeds of the clip's caption profile), the
    line rules for each output's frame (the clip's plan, or `presets`), and the key words' problems."""
    from .layout import Frame
    from .learn.keywords import problems as key_word_problems
    from .rules import lint, of_document

    doc = ClipDocument.load(doc_path)
    base = changed(doc.plan, {"presets_file": presets_file})
    if not presets:  # the clip's plan, less presets its presets file no longer has
        catalogue = resolve_plan(changed(base, {"presets": ("linkedin",)})).catalogue
        known = set(catalogue.presets) | set(catalogue.aliases)
        presets = [p for p in base.presets if p in known] or ["linkedin"]
    plan = resolve_plan(changed(base, {"presets": presets}))
    prof = of_document(doc)  # the reading speeds the clip was captioned for
    problems = [("", v) for v in lint(doc.cues, prof=prof)]
    for t in plan.targets:
        problems += [(f"{t.preset.id}: ", v) for v in lint(doc.cues, frame=Frame.of(t.preset))
                     if v.rule in LINE_RULES]
    return LintResult(problems, key_word_problems(doc.cues), doc, [t.preset.id for t in plan.targets],
                      prof.name)
