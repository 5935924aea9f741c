"""The numerical engine: layers, kernels, costs, initialisers, optimisers. numpy and numba only."""

from .blas import pin_kernel_blas_to_one_thread

pin_kernel_blas_to_one_thread()
