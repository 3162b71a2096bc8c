"""Exports of the existing systems, written the way they arrive: header row + data rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl

from tests import factories as f
from yunjian.core.validators import complete_credit_code

PROJECT_HEADER = [
    "PrjNum",
    "PrjName",
    "PrjTypeNum",
    "BuildCorpName",
    "BuildCorpCode",
    "CountyNum",
    "AllInvest",
    "BDate",
]
CENSOR_HEADER = [
    "CensorNum",
    "PrjNum",
    "CensorCorpName",
    "CensorCorpCode",
    "CensorEDate",
    "DesignCorpName",
    "DesignCorpCode",
    "OneCensorIsPass",
]
PERMIT_HEADER = [
    "BuilderLicenceNum",
    "PrjNum",
    "CensorNum",
    "ConsCorpName",
    "ConsCorpCode",
    "IssueCertDate",
    "ContractMoney",
    "ConstructorName",
]


def code(prefix: str = "91530302") -> str:
    return complete_credit_code(f"{prefix}{f.next_serial():08d}"[:16])


def write(path: Path, header: list[str], rows: list[list], fmt: str = "csv", encoding: str = "utf-8") -> Path:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        path.write_bytes(buffer.getvalue().encode(encoding))
    elif fmt == "jsonl":
        path.write_text(
            "\n".join(json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False) for row in rows)
            + "\n",
            encoding="utf-8",
        )
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(path)
    return path
