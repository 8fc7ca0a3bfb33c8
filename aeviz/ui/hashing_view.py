"""The Theory lab's semantic hashing section: a digit's neighbours found by the bits of its code.

A `hashing` model and a plain AE with as many code units are trained on bundled MNIST in one background task
(`aeviz.tasks.Task`, shared by every session that asks for the same number of bits: the result is the same). Then a
validation digit is the query: the training digits whose bits are at Hamming distance 0, 1 and 2 from its bits (what
semantic hashing looks up), and precision@10 of the hash beside LSH, the plain AE's code and the pixels
(`aeviz.analysis.hashing`).
"""

from __future__ import annotations

import math

import streamlit as st

from aeviz.analysis import hashing
from aeviz.data import Dataset, load_dataset
from aeviz.plots import tile
from aeviz.tasks import Task
from aeviz.ui import url
from aeviz.ui.latent_view import shared_result

BITS = (16, 32, 48, 64)
SHOWN = 30  # thumbnails drawn per bucket (the count says how many there are)
COLS = 15  # thumbnails per row


@st.cache_resource(max_entries=1, show_spinner=False)
def _data() -> Dataset:
    return load_dataset("mnist", limit=hashing.LAB_LIMIT)


@st.cache_resource(max_entries=4, show_spinner=False)
def _lab_task(n_bits: int) -> Task:
    data = _data()
    return Task(lambda report: hashing.train_pair(data, n_bits, report),
                f"Training a {n_bits}-bit hashing model and a plain AE on {len(data.train_idx):,} MNIST digits")


def section() -> None:
    left, right = st.columns(2)
    # 16 bits by default: 65,536 addresses for 3,200 digits, so a query's buckets within distance 2 hold digits (a
    # median of 4, 19 and 50); with 32 bits most of them are empty (medians 0, 1, 2).
    n_bits = int(url.selectbox(left, "Bits in the code", BITS, index=0, key="theory.hash.bits",
                               help="the hash has this many bits; LSH and the plain AE get as many"))
    task = shared_result(_lab_task, (n_bits,), "theory.hash.cancel")
    if task is None:
        return
    data, lab = _data(), task.result
    n_val = len(data.val_idx)
    query = int(url.number_input(right, f"Query: validation digit (0 to {n_val - 1})", 0, n_val - 1, 0, 1,
                                 key="theory.hash.query", help="its neighbours are searched among the "
                                 f"{len(data.train_idx):,} training digits"))
    _buckets(data, lab, query)
    _precision_table(lab.precision, n_bits, math.prod(data.shape))
    st.caption(f"{task.status()}. Queries are the {n_val:,} validation digits, the database the training digits; "
               f"precision@{hashing.K} is the share of a query's {hashing.K} nearest database digits with its label, "
               "averaged over the queries (ties in Hamming distance go to the lower index).")


def _buckets(data: Dataset, lab: hashing.Retrieval, query: int) -> None:
    """The query digit and its bits, then the training digits at Hamming distance 0, 1 and 2 from them."""
    (x_val, y_val), (x_train, y_train) = data.split("val"), data.split("train")
    bits = lab.query_bits[query]
    label = data.classes[y_val[query]] if data.classes else y_val[query]
    picture, counts = st.columns([1, 3])
    picture.image(tile(x_val[[query]], pad=0, scale=4), caption=f"Query: a {label}")
    picture.caption("Bits: `" + "".join(map(str, bits)) + "`")
    buckets = hashing.buckets(bits, lab.database_bits)
    for column, (d, rows) in zip(counts.columns(len(buckets)), enumerate(buckets)):
        same = int((y_train[rows] == y_val[query]).sum())
        column.metric(f"Distance {d}", len(rows), help=f"{same} of them a {label}" if len(rows) else None)
    if not any(len(rows) for rows in buckets):
        st.info(f"No training digit within Hamming distance 2: {len(bits)} bits make {2 ** len(bits):,} addresses "
                f"for {len(y_train):,} digits, so most of them are empty. Fewer bits put similar digits at the "
                "same address.", icon=":material/info:")
    for d, rows in enumerate(buckets):
        st.markdown(f"**Distance {d}**: {len(rows):,} training digits")
        if len(rows) == 0:
            st.caption(f"Empty bucket: no training digit's code differs from the query's in exactly {d} bits.")
        else:
            more = f" (the first {SHOWN} shown)" if len(rows) > SHOWN else ""
            st.image(tile(x_train[rows[:SHOWN]], cols=COLS, scale=2), caption=f"{len(rows)} digits{more}")


def _precision_table(precision: dict[str, float], n_bits: int, n_pixels: int) -> None:
    st.dataframe({"method": list(hashing.METHODS.values()),
                  "code": [f"{n_bits} bits", f"{n_bits} bits", f"{n_bits} numbers", f"{n_pixels} pixels"],
                  f"precision@{hashing.K}": [precision[m] for m in hashing.METHODS]},
                 column_config={f"precision@{hashing.K}": st.column_config.NumberColumn(format="%.3f")},
                 hide_index=True)
