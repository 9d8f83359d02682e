"""mist_hf: learned mutual-information estimation (MIST) as a Hugging Face-style package.

The data side (samplers, meta-distribution, dataset builder) imports only numpy, scipy and datasets, so it
stays fast to import.
"""

__version__ = "0.1.0"
