"""Synthetic contact centre: realistic exports plus ground truth of injected agent faults.

    from contactqa.synth import GenerateOptions, generate
    summary = generate(Path("demo"), GenerateOptions(seed=42, agents=20, days=5))

Writes, under the output folder (all times in the centre's local time zone):

    landing/telephony/cdr/Master-YYYY-MM-DD.csv       Asterisk cdr_csv, no header, one file per day
    landing/telephony/transcripts/YYYY-MM-DD.jsonl    one answered call per line (layout "daily")
    landing/telephony/transcripts/YYYY-MM-DD/<uniqueid>.json   (layout "per_call")
    landing/chats/jsonl/chats-YYYY-MM-DD.jsonl        generic chat export, one message per line
    landing/chats/telegram/result.json                Telegram Desktop full export
    landing/directory/agents.csv                      agent directory
    landing/actions/actions-YYYY-MM-DD.csv            agent action log
    landing/evaluations/evaluations.csv               QA evaluations incl. one calibration session
    ground_truth/faults.csv                           contact_id,channel,fault_code
    ground_truth/contacts.csv                         one row per contact with its fault codes

Contact ids: a call is its Asterisk uniqueid, a JSONL chat its conversation_id,
a Telegram conversation "tg-<chat id>-<id of its first message>" (a new
conversation starts after a 4-hour gap; the generator keeps conversations of
one chat on different days).

Deterministic: the same options and seed give byte-identical files. Streaming:
memory stays flat whatever the number of contacts.
"""

from .faults import IDENTITY_TOPICS, find_card_numbers
from .generator import generate
from .options import DEFAULT_FAULT_RATES, FAULT_CODES, GenerateOptions, GenerateSummary, validate_options

__all__ = [
    "DEFAULT_FAULT_RATES",
    "FAULT_CODES",
    "IDENTITY_TOPICS",
    "GenerateOptions",
    "GenerateSummary",
    "find_card_numbers",
    "generate",
    "validate_options",
]
