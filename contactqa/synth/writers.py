"""File formats the generator writes, each as real systems write them.

Every writer appends as it goes; none keeps the contacts it has written.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import io
import json
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

# --- shared -------------------------------------------------------------------


def _open_text(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="" so csv/json lines end in "\n" on every platform: files are byte-identical everywhere.
    return open(path, "w", encoding="utf-8", newline="")


def dumps_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")) + "\n"


class CsvFile:
    """A CSV file with a header, written row by row."""

    def __init__(self, path: Path, header: Iterable[str]) -> None:
        self.path = path
        self._fh = _open_text(path)
        self._writer = csv.writer(self._fh, lineterminator="\n")
        self._writer.writerow(list(header))

    def row(self, values: Iterable[object]) -> None:
        self._writer.writerow(list(values))

    def close(self) -> None:
        self._fh.close()


# --- Asterisk cdr_csv -------------------------------------------------------

CDR_COLUMNS: tuple[str, ...] = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield",
)
# cdr_csv.c writes strings with append_string (quoted, inner quotes doubled)
# and duration/billsec with append_int (bare integers).
_CDR_INT_COLUMNS = frozenset({"duration", "billsec"})


def format_cdr_row(row: dict[str, object]) -> str:
    out = []
    for col in CDR_COLUMNS:
        value = row[col]
        if col in _CDR_INT_COLUMNS:
            out.append(str(int(value)))  # type: ignore[call-overload]
        else:
            out.append('"' + str(value).replace('"', '""') + '"')
    return ",".join(out) + "\n"


class CdrDayWriter:
    """Master.csv for one day, rotated by date, no header.

    Asterisk posts a CDR when the call hangs up, so rows are in END order.
    Calls arrive here in start order; a small heap holds the calls still "in
    progress" and releases each once no later-starting call can end before it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = _open_text(path)
        self._pending: list[tuple[float, int, str]] = []
        self._seq = 0

    def add(self, end_epoch: float, row: dict[str, object]) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (end_epoch, self._seq, format_cdr_row(row)))

    def release_until(self, epoch: float) -> None:
        while self._pending and self._pending[0][0] <= epoch:
            self._fh.write(heapq.heappop(self._pending)[2])

    def close(self) -> None:
        self.release_until(float("inf"))
        self._fh.close()


# --- transcripts -----------------------------------------------------------


class TranscriptWriter:
    def __init__(self, root: Path, layout: str, on_new_file: Callable[[Path], None]) -> None:
        self.root = root
        self.layout = layout
        self._on_new_file = on_new_file
        self._fh: TextIO | None = None

    def start_day(self, date: dt.date) -> None:
        self.end_day()
        if self.layout == "daily":
            path = self.root / f"{date.isoformat()}.jsonl"
            self._fh = _open_text(path)
        else:
            path = self.root / date.isoformat()
            path.mkdir(parents=True, exist_ok=True)
            self._day_dir = path
        # per_call runs can hold a million files: the summary lists the day folders instead.
        self._on_new_file(path)

    def write(self, doc: dict[str, object]) -> None:
        if self._fh is not None:
            self._fh.write(dumps_line(doc))
        else:
            with open(self._day_dir / f"{doc['call_id']}.json", "w", encoding="utf-8", newline="") as fh:
                json.dump(doc, fh, ensure_ascii=False, indent=2)
                fh.write("\n")

    def end_day(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class JsonlDayWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = _open_text(path)

    def write(self, obj: dict[str, object]) -> None:
        self._fh.write(dumps_line(obj))

    def close(self) -> None:
        self._fh.close()


# --- Telegram Desktop export -------------------------------------------------


class TelegramExportWriter:
    """Telegram Desktop's result.json, assembled without holding the export in memory.

    Messages arrive in time order across all chats, but the export groups them
    by chat. They are spooled to a few bucket files by chat number, then each
    bucket (a slice of the chats) is grouped and written out in turn.
    """

    BUCKETS = 16

    def __init__(self, path: Path, spool_dir: Path, chat_capacity: int) -> None:
        self.path = path
        self.spool_dir = spool_dir
        self.capacity = max(1, chat_capacity)
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._spools = [_open_text(spool_dir / f"bucket-{i:02d}.jsonl") for i in range(self.BUCKETS)]
        self._chats: dict[int, tuple[str | None, int]] = {}
        self.message_count = 0

    def _bucket(self, chat_index: int) -> int:
        return min(self.BUCKETS - 1, chat_index * self.BUCKETS // self.capacity)

    def add(self, chat_index: int, chat_name: str | None, chat_id: int, message: dict[str, object]) -> None:
        self._chats.setdefault(chat_index, (chat_name, chat_id))
        self._spools[self._bucket(chat_index)].write(f"{chat_index}\t{json.dumps(message, ensure_ascii=False)}\n")
        self.message_count += 1

    @property
    def chat_count(self) -> int:
        return len(self._chats)

    def finish(self, about: str, personal_information: dict[str, object]) -> None:
        for fh in self._spools:
            fh.close()
        with _open_text(self.path) as out:
            out.write("{\n")
            out.write(f' "about": {json.dumps(about, ensure_ascii=False)},\n')
            info = json.dumps(personal_information, ensure_ascii=False, indent=1).replace("\n", "\n ")
            out.write(f' "personal_information": {info},\n')
            out.write(' "chats": {\n')
            out.write('  "about": "This page lists all chats from this export.",\n')
            out.write('  "list": [')
            first_chat = True
            for b in range(self.BUCKETS):
                spool_path = self.spool_dir / f"bucket-{b:02d}.jsonl"
                grouped: dict[int, list[str]] = {}
                with open(spool_path, encoding="utf-8") as fh:
                    for line in fh:
                        idx, _, payload = line.partition("\t")
                        grouped.setdefault(int(idx), []).append(payload.rstrip("\n"))
                for idx in sorted(grouped):
                    name, chat_id = self._chats[idx]
                    out.write("\n   {\n" if first_chat else ",\n   {\n")
                    first_chat = False
                    out.write(f'    "name": {json.dumps(name, ensure_ascii=False)},\n')
                    out.write('    "type": "personal_chat",\n')
                    out.write(f'    "id": {chat_id},\n')
                    out.write('    "messages": [')
                    for j, payload in enumerate(grouped[idx]):
                        pretty = json.dumps(json.loads(payload), ensure_ascii=False, indent=1).replace("\n", "\n     ")
                        out.write(("\n     " if j == 0 else ",\n     ") + pretty)
                    out.write("\n    ]\n   }")
                spool_path.unlink()
            out.write("\n  ]\n }\n}\n")
        try:
            self.spool_dir.rmdir()
        except OSError:
            pass


def telegram_text_entities(text: str | list[object]) -> list[dict[str, str]]:
    """text_entities as Telegram writes them: every piece typed, plain text included."""
    if isinstance(text, str):
        return [{"type": "plain", "text": text}] if text else []
    out: list[dict[str, str]] = []
    for piece in text:
        if isinstance(piece, str):
            out.append({"type": "plain", "text": piece})
        else:
            out.append(dict(piece))  # type: ignore[arg-type]
    return out


def plain_text(text: str | list[object]) -> str:
    if isinstance(text, str):
        return text
    buf = io.StringIO()
    for piece in text:
        buf.write(piece if isinstance(piece, str) else str(piece.get("text", "")))  # type: ignore[union-attr]
    return buf.getvalue()
