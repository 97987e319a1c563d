"""The `local` provider: "instances" are processes on this machine. It is what the offline demo
and the lifecycle tests provision on; each instance will run the GP4U node agent once it exists.
Its one offer describes this machine (its GPUs when `nvidia-smi` finds any) at no charge."""
