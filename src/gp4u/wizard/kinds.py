"""The kinds of workload the catalog estimates, and their names in words (pure).

`workloads` re-exports both names; the parser reads them to say which workload a request named.
"""

from __future__ import annotations

from enum import StrEnum


class WorkloadKind(StrEnum):
    LLM_PRETRAINING = "llm_pretraining"
    FULL_FINETUNING = "full_finetuning"
    LORA_FINETUNING = "lora_finetuning"
    INFERENCE_SERVING = "inference_serving"
    IMAGE_TRAINING = "image_training"
    BATCH_RENDERING = "batch_rendering"


KIND_LABELS: dict[WorkloadKind, str] = {
    WorkloadKind.LLM_PRETRAINING: "LLM pre-training",
    WorkloadKind.FULL_FINETUNING: "full fine-tuning",
    WorkloadKind.LORA_FINETUNING: "LoRA fine-tuning",
    WorkloadKind.INFERENCE_SERVING: "inference serving",
    WorkloadKind.IMAGE_TRAINING: "image-model training",
    WorkloadKind.BATCH_RENDERING: "batch rendering",
}
