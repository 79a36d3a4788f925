"""Small CNN classifier used offline as a *semantic* quality metric (not CLIP)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class ClassifierConfig:
    in_channels: int = 1
    resolution: int = 32
    nclass: int = 10
    width: int = 32

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ClassifierConfig:
        return cls(**d)


class SmallCNN(nn.Module):
    """conv-bn-relu x2 -> pool, twice, then a linear layer; inputs in [-1, 1]."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.config = cfg
        w = cfg.width

        def stage(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.MaxPool2d(2))

        self.features = nn.Sequential(stage(cfg.in_channels, w), stage(w, 2 * w))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(2 * w, cfg.nclass))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
