"""OneHot: token id v becomes the vector with a 1 at position v and 0 elsewhere (no parameters).

The plainest way to feed symbols to a network: every token is equally far from every
other, and the next layer's weights act as an embedding table (Embedding is the same
product done as a lookup).  Reads token ids, see token_ids.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import option
from .base import register_layer
from .token_ids import TokenLayer


@dataclass(frozen=True)
class OneHotConfig:
    vocabulary: int = option(
        16, help="Number of distinct token ids V: the length of each vector.", minimum=1, maximum=100_000
    )


@register_layer
class OneHot(TokenLayer):
    type_id = "one_hot"
    display_name = "OneHot"
    Config = OneHotConfig
    formula = "x_t = e_{id_t} (1 at the token's index)"
    when_to_use = "Small vocabularies (characters, digits), where a learned embedding adds little."

    @classmethod
    def width(cls, config):
        return config.vocabulary

    def forward(self, x, training):
        ids = self.ids(x)
        out = self.buffer("out", ids.shape + (self.config.vocabulary,))
        out[...] = 0.0
        np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
        return out
