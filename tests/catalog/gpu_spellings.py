"""Every GPU spelling found in the project's sample data, with the GPU it means.

Sources scanned: `/work/shared/data/catalogs/*/*.csv` (the `AcceleratorName` column and the `Name`
inside `GpuInfo`) and `/work/shared/data/provider-api/**.json` (Vast `gpu_name`, RunPod `id` /
`displayName` / `gpuDisplayName`, Lambda instance-type descriptions, TensorDock v0 keys and v2
display names, DataCrunch `gpu.description` / `model` / `name`, Cudo `gpuModel` /
`gpuModelId`), plus the spellings the normaliser's docstring promises to read.

Each value is `(family, variant, memory_gb)`:
  * family  - the `name` of a `[[gpu]]` in `src/gp4u/catalog/gpu_models.toml`;
  * variant - only when the spelling itself states the form factor (SXM/SXM4/SXM5/NVLINK/HGX ->
    "SXM", PCIe -> "PCIe", NVL -> "NVL", OAM -> "OAM", Server -> "Server"), and "SXM" for NVIDIA's
    own nvidia-smi name "NVIDIA H100 80GB HBM3"; otherwise None;
  * memory_gb - the per-GPU size the spelling states; else, when the stated variant exists in one
    size only and that size is not the family default (H100 NVL = 94 GB), that size; else the
    family's `default_memory_gb`.
    Memory reported elsewhere (GpuInfo MiB values, `gpu_ram`) is out of scope here: only the name.

Deliberately left out (not GPU model spellings):
  * placeholders / generic names: Vast docs "Imaginary RTX 9999"; Akash console fixture models
    "gpu0", "gpu1", "gpu2", "gpu3" (synthetic names from a functional test);
  * non-GPU rows: DataCrunch "CPU Node" / "AMD EPYC";
  * instance-type codes, which name an instance rather than a GPU: Lambda "gpu_1x_a100_sxm4",
    DataCrunch "1H100.80S.30V", "2A6000.20V", "1V100.6V", and the catalogs' `InstanceType` column
    (e.g. Vast "1x-RTX_4060_Ti-32-65536", "2x-RTX_4070S_Ti-32-65536", "1x-RTX_PRO_6000_S-32-65536").
"""

from __future__ import annotations

EXPECTED: dict[str, tuple[str, str | None, int]] = {
    # ---- catalogs: AcceleratorName (SkyPilot canonical names) -------------------------------
    "A10": ("A10", None, 24),
    # Judgement: SkyPilot's bare "A100" is the 40 GB part even though Cudo's and Vast's "A100" rows
    # report 80 GB in GpuInfo; the reported size is applied by the caller, not read from the name.
    "A100": ("A100", None, 40),
    "A100-80GB": ("A100", None, 80),
    "A100-80GB-SXM": ("A100", "SXM", 80),
    "A16": ("A16", None, 16),  # per GPU of the 4-GPU board
    "A40": ("A40", None, 48),
    "A4000": ("RTXA4000", None, 16),  # SkyPilot drops the "RTX" of the RTX A-series
    "A5000": ("RTXA5000", None, 24),
    "A6000": ("RTXA6000", None, 48),
    "A800": ("A800", None, 80),  # Cudo's A800 rows are the 80 GB PCIe card; default is 80
    "B200": ("B200", None, 180),
    "B300": ("B300", None, 270),  # NVIDIA per-GPU table: 270 GB (marketed as 288 GB HBM3e)
    "GAUDI2": ("GAUDI2", None, 96),
    "GB200": ("GB200", None, 186),  # per Blackwell GPU of the superchip (OCI reports 192 GiB)
    "GB300": ("GB300", None, 279),  # per Blackwell Ultra GPU (marketed as 288 GB)
    "GH200": ("GH200", None, 96),  # Lambda's GH200 is the 96 GB HBM3 part
    # Judgement: bare "H100" gets no variant even where the provider's board is in fact SXM.
    "H100": ("H100", None, 80),
    # Judgement: no size in the name, but the H100 NVL exists only with 94 GB, so 94 rather than
    # the family default of 80 (an "80 GB NVL" does not exist). Same for "H100_NVL" / "H100 NVL".
    "H100-NVL": ("H100", "NVL", 94),
    # Judgement: fluidstack "H100-NVLINK" (instance H100_NVLINK_80GB, 8 per node, 80 GB each) is the
    # SXM5 module on an NVLink/NVSwitch HGX board, NOT the 94 GB H100 NVL PCIe product.
    "H100-NVLINK": ("H100", "SXM", 80),
    "H100-SXM": ("H100", "SXM", 80),
    "H200": ("H200", None, 141),
    "H200-SXM": ("H200", "SXM", 141),
    "L4": ("L4", None, 24),
    "L40": ("L40", None, 48),
    "L40S": ("L40S", None, 48),
    "M4000": ("M4000", None, 8),  # Quadro M4000 (Paperspace "GPU+")
    "M60": ("M60", None, 8),  # per GPU of the dual-GPU Tesla M60 board (Azure NVv3)
    "MI25": ("MI25", None, 16),
    "MI300X": ("MI300X", None, 192),
    "MI355X": ("MI355X", None, 288),
    "P100": ("P100", None, 16),
    "P4000": ("P4000", None, 8),  # Quadro P4000
    # Judgement: Vast's "RTX3060" rows include RTX 3060 Ti offers (instance "2x-RTX_3060_Ti-…"),
    # but the name says 3060, so it maps to the RTX 3060 family and its 12 GB default.
    "RTX3060": ("RTX3060", None, 12),
    "RTX3070": ("RTX3070", None, 8),
    "RTX3080": ("RTX3080", None, 10),
    "RTX3090": ("RTX3090", None, 24),
    "RTX4000-Ada": ("RTX4000Ada", None, 20),
    # Judgement: Vast's only "RTX4060" row is an RTX 4060 Ti 16 GB offer (instance
    # "1x-RTX_4060_Ti-…"); the name still means the RTX 4060 (8 GB).
    "RTX4060": ("RTX4060", None, 8),
    # Judgement: Vast's only "RTX4070" row is an RTX 4070 Ti SUPER offer (instance
    # "2x-RTX_4070S_Ti-…", 16 GB each); the name still means the RTX 4070 (12 GB).
    "RTX4070": ("RTX4070", None, 12),
    "RTX4090": ("RTX4090", None, 24),
    "RTX5090": ("RTX5090", None, 32),
    # Judgement: Lambda / SkyPilot "RTX6000" is the Turing Quadro RTX 6000 (24 GB, gpu_1x_rtx6000),
    # not the RTX 6000 Ada (48 GB) nor the RTX PRO 6000 Blackwell (96 GB).
    "RTX6000": ("RTX6000", None, 24),
    "RTX6000-Ada": ("RTX6000Ada", None, 48),
    "RTX6000Ada": ("RTX6000Ada", None, 48),
    "RTXA2000": ("RTXA2000", None, 6),
    "RTXA4000": ("RTXA4000", None, 16),
    "RTXA4500": ("RTXA4500", None, 20),
    "RTXA5000": ("RTXA5000", None, 24),
    "RTXA6000": ("RTXA6000", None, 48),
    # Judgement: OCI "RTXPRO6000" (BM.GPU.RTXPRO.8) is a server card in practice, but the name does
    # not say so: no variant.
    "RTXPRO6000": ("RTXPro6000", None, 96),
    # Judgement: the trailing S is Vast's "RTX PRO 6000 S" = RTX PRO 6000 Blackwell Server Edition
    # (Vast spells the workstation card "RTX PRO 6000 WS"), so S -> "Server".
    "RTXPRO6000S": ("RTXPro6000", "Server", 96),
    "RTXPro6000": ("RTXPro6000", None, 96),
    "T4": ("T4", None, 16),
    "V100": ("V100", None, 16),
    "V100-32GB": ("V100", None, 32),
    # ---- catalogs: GpuInfo Name values not already above ------------------------------------
    # Hyperbolic writes nvidia-smi's name with dashes; "HBM3" on an 80 GB H100 is the SXM5 board.
    "NVIDIA-H100-80GB-HBM3": ("H100", "SXM", 80),
    # Judgement: DigitalOcean's lowercase "h100" is read like "H100" (case does not matter); its
    # gpu-h100x1-80gb droplets are SXM boards but the name does not say so.
    "h100": ("H100", None, 80),
    # ---- provider-api: Vast bundles gpu_name -------------------------------------------------
    "RTX 4090": ("RTX4090", None, 24),
    "RTX 5090": ("RTX5090", None, 32),
    "RTX A5000": ("RTXA5000", None, 24),
    # ---- provider-api: RunPod gpuTypes id / displayName, pod machine.gpuDisplayName --------------
    "NVIDIA A100 80GB PCIe": ("A100", "PCIe", 80),
    "A100 80GB": ("A100", None, 80),
    "RTX 3090": ("RTX3090", None, 24),
    # ---- provider-api: Lambda instance-type description ---------------------------------------
    "1x A100 SXM4 (40 GB)": ("A100", "SXM", 40),
    # ---- provider-api: TensorDock v0 gpu keys and v2 displayName -------------------------------
    # Judgement: the L40 has only one form (a PCIe card), but the spelling states PCIe, so the
    # variant is "PCIe" as for any spelling; the catalogue's single L40 variant is "".
    "l40-pcie-48gb": ("L40", "PCIe", 48),
    "rtx4090-24gb": ("RTX4090", None, 24),
    "h100-sxm5-80gb": ("H100", "SXM", 80),
    "H100 SXM5 80GB": ("H100", "SXM", 80),  # also DataCrunch `name`
    # ---- provider-api: DataCrunch instance types (gpu.description, model, name) ------------------
    "1x H100 SXM5 80GB": ("H100", "SXM", 80),
    "H100 80GB": ("H100", None, 80),
    "2x RTX A6000 48GB": ("RTXA6000", None, 48),  # 2 GPUs, 48 GB each
    "RTX A6000": ("RTXA6000", None, 48),  # also a required example
    "RTX A6000 48GB": ("RTXA6000", None, 48),
    "1x Tesla V100 16GB": ("V100", None, 16),
    "Tesla V100": ("V100", None, 16),  # also a required example
    "Tesla V100 16GB": ("V100", None, 16),
    # ---- provider-api: Cudo machine types (gpuModel, gpuModelId) -------------------------------
    "RTX 3080": ("RTX3080", None, 10),
    "nvidia-rtx-3080": ("RTX3080", None, 10),
    "nvidia-rtx-a5000": ("RTXA5000", None, 24),
    # ---- required examples not already listed --------------------------------------------------
    "NVIDIA H100 80GB HBM3": ("H100", "SXM", 80),  # nvidia-smi name of the SXM5 board
    "H100 SXM": ("H100", "SXM", 80),
    "H100_NVL": ("H100", "NVL", 94),  # Vast style; 94 GB: see "H100-NVL"
    "A100-SXM4-80GB": ("A100", "SXM", 80),
    "NVIDIA GeForce RTX 4090": ("RTX4090", None, 24),
    "1x H100 (80 GB SXM5)": ("H100", "SXM", 80),
    "RTX 6000 Ada": ("RTX6000Ada", None, 48),
    "AMD Instinct MI300X OAM": ("MI300X", "OAM", 192),
}

# Spellings a user may type as a query value (`gpu=…`). A query names exactly what it states: a
# family alone matches every memory size and form factor of it, a stated size or variant narrows it.
QUERY_EXAMPLES: dict[str, tuple[str, str | None, int | None]] = {
    "A100-80GB": ("A100", None, 80),
    "a100": ("A100", None, None),
    "A100 PCIe 40GB": ("A100", "PCIe", 40),
    "h100 sxm": ("H100", "SXM", None),
    "H100 NVL": ("H100", "NVL", None),
    "h200": ("H200", None, None),
    "v100 32gb": ("V100", None, 32),
    "GH200 144GB": ("GH200", None, 144),
    "rtx 4090": ("RTX4090", None, None),
    "RTX 4070 Super": ("RTX4070Super", None, None),
    "a6000": ("RTXA6000", None, None),
    "RTX 6000 Ada Generation": ("RTX6000Ada", None, None),
    "RTX PRO 6000 Max-Q": ("RTXPro6000", "MaxQ", None),
    "mi300x": ("MI300X", None, None),
    "Gaudi 2": ("GAUDI2", None, None),
}
