"""What torch and numpy functions and methods return, as far as the rules need to know.

Only the facts that decide a finding: is the result an array of which library, how many
dimensions, and which calls merely alias their argument (a view) instead of copying it.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Calls under these prefixes return arrays of that library unless listed as non-array below.
ARRAY_MODULES: dict[str, str] = {
    "torch": "torch",
    "torch.linalg": "torch",
    "torch.fft": "torch",
    "torch.special": "torch",
    "torch.nn.functional": "torch",
    "numpy": "numpy",
    "numpy.linalg": "numpy",
    "numpy.fft": "numpy",
    "numpy.random": "numpy",
    "numpy.ma": "numpy",
    "numpy.lib.stride_tricks": "numpy",
    "numpy.rec": "numpy",
}
# numpy functions whose result is a structured (record) array.
RECORD_FUNCTIONS = _words("recarray fromarrays fromrecords fromstring fromfile")
# Objects whose methods return numpy arrays: numpy's random generators.
NUMPY_GENERATOR = "numpy.random.Generator"
GENERATOR_FACTORIES = _words("default_rng RandomState Generator")
GENERATOR_ARRAY_METHODS = _words(
    "integers random choice uniform normal standard_normal permutation randint rand randn "
    "random_sample exponential poisson binomial beta gamma lognormal multivariate_normal "
    "dirichlet multinomial laplace logistic geometric standard_exponential standard_gamma "
    "permuted"
)

TORCH_NON_TENSOR = _words(
    "device Generator manual_seed seed no_grad enable_grad inference_mode set_grad_enabled "
    "is_tensor is_storage numel set_default_dtype get_default_dtype set_printoptions save load "
    "compile allclose equal is_floating_point is_complex Size dtype finfo iinfo "
    "use_deterministic_algorithms set_num_threads get_num_threads typename is_grad_enabled "
    "autocast set_default_device get_default_device"
)
NUMPY_NON_ARRAY = _words(
    "shape ndim size isscalar dtype result_type promote_types iinfo finfo allclose array_equal "
    "array_equiv printoptions set_printoptions get_printoptions errstate seterr save savez "
    "savez_compressed savetxt can_cast issubdtype array2string array_repr array_str "
    "base_repr binary_repr broadcast_shapes ndindex ndenumerate nditer vectorize frompyfunc "
    "info may_share_memory shares_memory default_rng RandomState seed get_state set_state "
    "Generator PCG64 SeedSequence float16 float32 float64 int8 int16 int32 int64 uint8 uint16 "
    "uint32 uint64 bool_ complex64 complex128 intp longlong str_ any all"
)
# Functions returning a sequence of arrays (unpacking gives arrays).
SEQUENCE_OF_ARRAYS = _words(
    "broadcast_arrays meshgrid split array_split hsplit vsplit dsplit where nonzero unbind "
    "chunk tensor_split unravel_index indices histogram histogramdd gradient linalg.eig "
    "linalg.eigh linalg.svd linalg.qr linalg.slogdet sort topk max min unique"
)
# Reductions that give a 0-d result when called without an axis.
SCALAR_REDUCTIONS = _words(
    "argmax argmin sum mean max min amax amin prod std var median ptp count_nonzero nanmax "
    "nanmin nansum nanmean average trace norm det dot vdot"
)
# Shape given by the first argument (an int, or a tuple/list literal of ints).
SHAPE_CONSTRUCTORS = _words("zeros ones empty full")
ONE_DIMENSIONAL = _words("arange linspace logspace geomspace randperm bincount")
TWO_DIMENSIONAL = _words("matrix eye identity column_stack vstack row_stack tril triu outer")
SAME_NDIM_AS_ARG = _words(
    "zeros_like ones_like empty_like full_like copy asarray asanyarray ascontiguousarray array "
    "clone transpose flip fliplr flipud roll abs sqrt exp log sin cos tanh clip round sign "
    "negative rand_like randn_like concatenate cat swapaxes moveaxis sort from_numpy as_tensor "
    "tensor"
)

# Calls that return their first argument's memory (a view or the object itself).
ALIAS_FUNCTIONS = _words(
    "from_numpy asarray asanyarray as_tensor ravel reshape transpose squeeze expand_dims "
    "swapaxes moveaxis narrow select diagonal detach view_as_real view_as_complex atleast_1d "
    "atleast_2d atleast_3d broadcast_to permute unsqueeze t movedim"
)
ALIAS_METHODS = _words(
    "detach view view_as reshape reshape_as t transpose permute squeeze unsqueeze narrow select "
    "expand expand_as diagonal numpy ravel contiguous cpu to swapaxes moveaxis movedim "
    "unflatten flatten_view as_strided unfold"
)
ALIAS_ATTRIBUTES = _words("T mT H mH real imag data")
# Methods taking one part of an array (not all of its memory): their result may overlap
# only some stores into that array.
PART_METHODS = _words("narrow select diagonal unfold as_strided")
# Methods whose result is a sequence of views of parts of the array.
SPLITTING_METHODS = _words("unbind split chunk tensor_split hsplit vsplit dsplit")
NON_ARRAY_METHODS = _words(
    "item tolist size dim numel data_ptr stride storage untyped_storage element_size "
    "is_contiguous tobytes nbytes get_device"
)
NON_ARRAY_ATTRIBUTES = _words("shape dtype device ndim size itemsize nbytes strides")
# Method names that only one library has: evidence for an object of unknown type.
TORCH_ONLY_METHODS = _words(
    "clone detach cuda cpu numel dim permute unsqueeze float double half long bfloat16 "
    "contiguous narrow"
)
NUMPY_ONLY_METHODS = _words("astype tobytes")

# Libraries whose containers are never torch/numpy views (their slices are copies).
NON_ARRAY_LIBRARIES = frozenset({"sympy", "array", "collections"})

# A few numpy/torch names, to resolve bare names under several star imports.
COMMON_NUMPY_NAMES = _words(
    "array zeros ones empty full arange linspace eye identity reshape concatenate stack vstack "
    "hstack column_stack mean sum std asarray copy where transpose random"
)
COMMON_TORCH_NAMES = _words(
    "tensor zeros ones empty full arange linspace eye rand randn randint stack cat clone "
    "from_numpy as_tensor"
)

BUILTIN_LIST_CALLS = frozenset({"list", "sorted"})
BUILTIN_SCALAR_CALLS = frozenset({"len", "int", "float", "round", "bool", "ord", "hash", "id"})
BUILTIN_OTHER_CALLS = _words(
    "range dict set tuple str bytes bytearray frozenset enumerate zip reversed map filter iter "
    "repr format open type object super isinstance print"
)
