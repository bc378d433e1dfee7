"""The classifier models: Hugging Face's sequence classifier, or an encoder with an aspect-pooling head.

With ``aspect_pooling`` off (the paper's head) a classifier is ``AutoModelForSequenceClassification``: a
linear layer on the pooled ``[CLS]`` state. Its directory opens with the Auto classes as it is.

With ``aspect_pooling`` on, :class:`AspectPoolingClassifier` concatenates the final ``[CLS]`` state with the
mean of the target span's token states (``aspect_mask`` from :mod:`.features`) before the linear layer: the
decision then reads the aspect's own contextual representation, not only a summary of the whole sentence.
Its directory holds the encoder as a plain Hugging Face model (``AutoModel.from_pretrained`` opens it) plus
``aspect_head.safetensors``; :func:`load_classifier_model` puts the two back together.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..core.errors import AdaError
from ..core.sequence_template import model_uses_token_types
from .features import CONFIG_KEY, InputFormat

HEAD_FILE = "aspect_head.safetensors"


class AspectPoolingClassifier(nn.Module):
    """Encoder + linear head on ``[CLS]`` concatenated with the mean-pooled aspect tokens."""

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float | None = None):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        hidden = encoder.config.hidden_size
        rate = dropout if dropout is not None else getattr(encoder.config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(rate)
        self.classifier = nn.Linear(2 * hidden, num_labels)
        std = getattr(encoder.config, "initializer_range", 0.02)
        nn.init.normal_(self.classifier.weight, std=std)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, aspect_mask=None, labels=None,
                **kwargs):
        from transformers.modeling_outputs import SequenceClassifierOutput

        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and model_uses_token_types(self.config):
            inputs["token_type_ids"] = token_type_ids
        states = self.encoder(**inputs).last_hidden_state
        if aspect_mask is None:
            raise ValueError("AspectPoolingClassifier needs an aspect_mask (see ada_atsc.atsc.features)")
        weights = aspect_mask.unsqueeze(-1).to(states.dtype)
        span = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        logits = self.classifier(self.dropout(torch.cat([states[:, 0], span], dim=-1)))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def save_pretrained(self, folder: str | Path, **kwargs) -> None:
        """The encoder as a Hugging Face directory (config with labels and input format) + the head."""
        from safetensors.torch import save_file

        self.encoder.save_pretrained(folder, **kwargs)
        head = {f"classifier.{k}": v.detach().contiguous().cpu() for k, v in self.classifier.state_dict().items()}
        save_file(head, str(Path(folder) / HEAD_FILE), metadata={"format": "pt"})


def new_classifier(model_path: str, config, input_format: InputFormat, cache_dir: str | None = None):
    """A classifier to fine-tune from the encoder at ``model_path``; ``config`` carries labels."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    setattr(config, CONFIG_KEY, input_format.to_config())
    if input_format.aspect_pooling:
        encoder = AutoModel.from_pretrained(model_path, config=config, cache_dir=cache_dir)
        return AspectPoolingClassifier(encoder, config.num_labels)
    return AutoModelForSequenceClassification.from_pretrained(model_path, config=config, cache_dir=cache_dir)


def load_classifier_model(path: str):
    """A trained classifier from its directory, whichever head it was trained with."""
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(path)
    if not InputFormat.from_config(config).aspect_pooling:
        return AutoModelForSequenceClassification.from_pretrained(path)
    head_file = Path(path) / HEAD_FILE
    if not head_file.is_file():
        raise AdaError(f"{path}: the config asks for an aspect-pooling head but {HEAD_FILE} is missing")
    from safetensors.torch import load_file

    model = AspectPoolingClassifier(AutoModel.from_pretrained(path, config=config), config.num_labels)
    state = load_file(str(head_file))
    model.classifier.load_state_dict({k.removeprefix("classifier."): v for k, v in state.items()})
    return model
