"""The Theory lab page under AppTest: its section switch (bound to the URL), and each section drawn from a trained
result: the shared task is trained first in this process (st.cache_resource is one cache per process), so the page
finds it done, as a later visitor would."""

from __future__ import annotations

import numpy as np
import pytest

from aeviz.analysis import tangents
from aeviz.loaders import toy
from aeviz.ui import tangent_view
from tests.conftest import open_page


@pytest.fixture(scope="module")
def ring_lab():
    task = tangent_view._lab_task("ring")
    assert task.done.wait(120) and task.error is None
    return task.result


def test_the_default_section_is_the_field_and_the_switch_offers_the_others():
    at = open_page("pages/theory.py")
    assert not at.exception
    assert at.radio(key="theory.section").options == ["Denoising field", "Contractive tangents", "Semantic hashing"]
    assert at.subheader[0].value.startswith("A denoising autoencoder learns a vector field")


def test_the_tangent_section_reports_each_models_angle_from_its_trained_run(ring_lab):
    at = open_page("pages/theory.py", query={"section": "Contractive tangents"})
    assert not at.exception
    assert at.subheader[0].value == "Contractive codes follow the manifold's tangent"
    table = at.dataframe[0].value.set_index("model")
    data = tangent_view._data("ring")
    idx = np.arange(0, len(data.x), tangent_view.EVERY)
    tangent = toy.tangents("ring", len(data.x), data.params["noise"], 0)[idx]
    for label, run in ring_lab.items():
        f = tangents.summary(run.model, data.x[idx], tangent)
        assert table.loc[label, "mean angle to the tangent (°)"] == round(f["mean_angle"], 1)
        assert table.loc[label, "within 20°"] == f"{f['within']:.0%}"
    assert table.loc["CAE (tied)", "mean angle to the tangent (°)"] < table.loc["CAE (untied)",
                                                                                "mean angle to the tangent (°)"]
    assert any("tied weights (W' = Wᵀ)" in c.value for c in at.caption), [c.value for c in at.caption]


def test_a_bad_section_in_the_url_falls_back_with_a_note():
    at = open_page("pages/theory.py", query={"section": "Nonsense"})
    assert not at.exception
    assert at.radio(key="theory.section").value == "Denoising field"


def test_the_field_section_reports_both_fields_from_its_trained_pair():
    from aeviz.analysis import field
    from aeviz.ui import field_view

    task = field_view._pair_task("circles", 0.1)
    assert task.done.wait(120) and task.error is None
    at = open_page("pages/theory.py")
    assert not at.exception
    data = field_view._data("circles")
    points = field.grid(data.x)
    reaches = [c.value for c in at.caption if c.value.startswith("Away from the data its arrows go")]
    expected = [field.reach(points, field.field(run.model, points), data.x) for run in task.result]
    assert reaches == [f"Away from the data its arrows go **{r:.0%}** of the way there (median; arrows drawn to "
                       "scale with each other, the longest one grid cell)." for r in expected]
