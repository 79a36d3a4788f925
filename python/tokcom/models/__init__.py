"""Torch models for token communications: VQ tokenizer, MaskGIT transformer, decoding.

Importing this sub-package imports torch; flowgraph code must not import it.
"""

from .bundled import (
                      Bundle,
                      BundleConfig,
                      ImageGeometry,
                      crop_output,
                      default_model_dir,
                      load_bundle,
                      to_model_input,
)
from .checkpoints import (
                      TAMING_IGNORED_PREFIXES,
                      CheckpointError,
                      load_maskgit,
                      load_state_dict_strict,
                      load_vqgan,
                      save_maskgit,
                      save_vqgan,
)
from .classifier import ClassifierConfig, SmallCNN
from .decoding import SCHEDULES, mask_predict
from .inference import InferenceTransformer
from .maskgit import MaskGITConfig, MaskTransformer, halton_maskgit_v1_base
from .vqgan import VQConfig, VQModel, taming_vqgan_f16_1024

__all__ = [
                      "SCHEDULES",
                      "TAMING_IGNORED_PREFIXES",
                      "Bundle",
                      "BundleConfig",
                      "CheckpointError",
                      "ClassifierConfig",
                      "ImageGeometry",
                      "InferenceTransformer",
                      "MaskGITConfig",
                      "MaskTransformer",
                      "SmallCNN",
                      "VQConfig",
                      "VQModel",
                      "crop_output",
                      "default_model_dir",
                      "halton_maskgit_v1_base",
                      "load_bundle",
                      "load_maskgit",
                      "load_state_dict_strict",
                      "load_vqgan",
                      "mask_predict",
                      "save_maskgit",
                      "save_vqgan",
                      "taming_vqgan_f16_1024",
                      "to_model_input",
]
