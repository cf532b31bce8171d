"""The family registry's types: what a ``Family`` entry says (pure data, no logic).

See ``registry.py`` for the entries and their sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_MLC_KINDS = frozenset({"no-quant", "group-quant", "ft-quant"})
"""Kinds ``make_quantization_functions`` always registers (mlc-llm model.py)."""


@dataclass(frozen=True, slots=True)
class ConfigKeys:
    """Which config keys give each dimension (first present wins), as the family's MLC config
    class reads them. Defaults are the union most families use."""

    layers: tuple[str, ...] = ("num_hidden_layers", "n_layer", "num_layers")
    hidden: tuple[str, ...] = ("hidden_size", "n_embd", "d_model")
    heads: tuple[str, ...] = ("num_attention_heads", "n_head")
    kv_heads: tuple[str, ...] = ("num_key_value_heads", "n_head_kv")
    head_dim: tuple[str, ...] = ("head_dim",)
    intermediate: tuple[str, ...] = ("intermediate_size", "n_inner", "ffn_dim")
    vocab: tuple[str, ...] = ("vocab_size",)
    context: tuple[str, ...] = (
        "max_position_embeddings",
        "max_sequence_length",
        "n_positions",
        "seq_length",
        "context_window_size",
    )
    text_config: str = "flatten"
    """How a nested ``text_config`` is read: ``flatten`` (its keys over the top level, the HF
    multimodal convention), ``top_wins`` (Ministral3Config.from_dict: merged into the top level,
    top-level ``tie_word_embeddings``/``dtype`` win), ``nested`` (Gemma3Config: the text model
    is ``text_config``, ``vocab_size`` stays at the top)."""
    defaults: tuple[tuple[str, int], ...] = ()
    """Values the MLC config class defaults to when the key is absent."""
    head_dim_required: bool = False
    """The config class declares ``head_dim`` without a default (GemmaConfig)."""
    intermediate_divisor: int = 1
    """QWenConfig: the MLP is ``intermediate_size // 2`` wide."""
    intermediate_default_x4: bool = True
    """No intermediate size in the config: 4 × hidden (GPT convention)."""
    single_kv_head: str | None = None
    """A boolean key (default true) that makes attention multi-query: one KV head
    (GPTBigCode ``multi_query``)."""
    kv_heads_when: str | None = None
    """A boolean key that must be true for ``kv_heads`` to apply (chatglm
    ``multi_query_attention``); otherwise kv heads = heads."""
    facts: tuple[str, ...] = ()
    """Extra raw keys the layout or graph reads (kept in ``ModelSpec.extra`` as text)."""
    nested_facts: tuple[str, ...] = ()
    """Nested blocks whose scalar keys are kept as ``block.key`` facts (``vision_config``)."""
    text_presets: bool = False
    """LlavaConfig: a ``text_config`` naming ``_name_or_path`` takes that model's config
    (MLC fetches it, or uses its preset for the models in ``TEXT_PRESETS``)."""
    window_pattern: str = "all"
    """Which layers a config's ``sliding_window`` applies to in the Hugging Face model: ``all``,
    ``alternate`` (Gemma-2: even layers), ``every_nth_global`` (Gemma-3:
    ``sliding_window_pattern``), ``flagged`` (Qwen: only with ``use_sliding_window``),
    ``below_max`` (Phi-3: ignored when ≥ max_position_embeddings)."""


@dataclass(frozen=True, slots=True)
class BiasRule:
    """A config switch that turns biases on: ``key`` (default ``default``) → ``targets``
    (``qkv``, ``o``, ``mlp``)."""

    key: str
    default: bool
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MoeLayout:
    """A mixture-of-experts MLP: all experts resident (what MLC does), routed per token."""

    experts_key: str
    top_k_key: str = "num_experts_per_tok"
    inter_key: str = "moe_intermediate_size"
    shared_inter_key: str | None = None
    """Shared expert width key (qwen2_moe); ``shared_count_key`` multiplies it (deepseek)."""
    shared_count_key: str | None = None
    shared_gate: bool = False
    """qwen2_moe: ``sigmoid(shared_expert_gate(x))`` scales the shared expert."""
    first_dense_key: str | None = None
    """deepseek ``first_k_dense_replace``: the first k layers keep a dense MLP."""
    freq_key: str | None = None
    """deepseek ``moe_layer_freq``: MoE on layers with ``i % freq == 0`` (after the dense ones)."""
    sparse_step_key: str | None = None
    """qwen2_moe/qwen3_moe ``decoder_sparse_step``: MoE on layers with ``(i + 1) % step == 0``."""
    gate: str = "mlp.gate"
    gate_up: str = "mlp.moe_gate_up_proj"
    down: str = "mlp.moe_down_proj"
    shared: str = "mlp.shared_expert"
    source: str = ""


@dataclass(frozen=True, slots=True)
class VisionLayout:
    """A CLIP ViT vision tower plus its projector (llava, phi3_v). The tower is not quantized
    (``CLIPVisionModel.no_quantization``); the projector's Linears are."""

    prefix: str
    config_block: str
    """``vision_config`` facts (llava); empty: CLIP ViT-L/14-336 defaults (phi3_v)."""
    projector: str
    projector_out_key: str = "hidden_size"
    extra_params: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """Raw tensors of the projector (phi3_v ``glb_GN``/``sub_GN``; -1 = projector input width)."""
    feature_layers_used: int = 0
    """Encoder layers before the selected feature (CLIP ``forward`` returns states[-2]); 0 =
    all."""
    crops: int = 1
    """Image crops encoded per image (phi3_v HD transform: up to 16 sub-images + 1 global)."""
    projector_in_mult: int = 1
    """phi3_v concatenates 2×2 patches: the projector input is 4 × the tower width."""
    source: str = ""


@dataclass(frozen=True, slots=True)
class FamilyLayout:
    """Weight layout: MLC parameter names (``{i}`` = layer index) and structural switches."""

    embed: str = "model.embed_tokens"
    layer: str = "model.layers.{i}."
    qkv: str = "self_attn.qkv_proj"
    qkv_split: tuple[str, str, str] | None = None
    o: str = "self_attn.o_proj"
    gate_up: str = "mlp.gate_up_proj"
    gate_up_split: tuple[str, str] | None = None
    up: str = "mlp.up_proj"
    down: str = "mlp.down_proj"
    q_norm: str = "self_attn.q_norm"
    k_norm: str = "self_attn.k_norm"
    layer_norms: tuple[str, ...] = ("input_layernorm", "post_attention_layernorm")
    norms_first: bool = False
    """Norms are declared before attention (phi, gptj, gpt_neox): only the tensor order."""
    final_norm: str | None = "model.norm"
    lm_head: str = "lm_head"
    lm_head_norm: str | None = None
    """phi: ``lm_head.ln`` (LayerNorm applied after the last-token gather)."""
    norm: str = "rms"
    """``rms`` (RMSNorm; FuseAddRMSNorm may apply) or ``layer`` (LayerNorm)."""
    norm_bias: bool = False
    norm_params: bool = True
    """OLMo's LayerNorm has no affine parameters."""
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    mlp_bias_dtype: str | None = None
    """GPT-NeoX's MLP Linears have ``out_dtype="float32"``: their biases are float32 under
    group quantization."""
    bias_rules: tuple[BiasRule, ...] = ()
    gated_mlp: bool = True
    qk_norm: str | None = None
    """``per_head`` (weight of head_dim) or ``full`` (heads × head_dim, OLMo-2)."""
    lm_head_bias: bool = False
    tie: str = "config"
    """``config`` (tie_word_embeddings), ``always`` (Gemma, Cohere) or ``never``."""
    position_embedding: str | None = None
    """GPT-2: ``wpe`` has ``context_window_size`` rows; GPTBigCode: ``n_positions`` rows."""
    position_embedding_name: str = "transformer.wpe"
    moe: MoeLayout | None = None
    vision: VisionLayout | None = None
    special: str | None = None
    """A layout no switch describes: ``mla`` (DeepSeek-V2 attention), ``rwkv`` (RWKV blocks)."""


@dataclass(frozen=True, slots=True)
class MlcFacts:
    """How mlc-llm compiles the family (what memory depends on)."""

    graph: str = "pre_norm"
    """The op-sequence function of ``runtimes/mlc/graphs.py`` that replays one layer."""
    head: str = "norm"
    """How the stack ends before the lm_head: ``norm`` (final RMS/LayerNorm, add-norm fused when
    possible), ``layer_norm`` (a LayerNorm kernel of its own), ``post_norm`` (OLMo-2),
    ``scale_width`` (MiniCPM's ``/ scale_width``), ``none`` (phi: the norm is in the lm_head)."""
    pre: str | None = None
    """Embedding-side kernels at the start of every function: ``embed_scale`` (Gemma's
    ``* sqrt(hidden)``), ``position_embedding`` (GPT-2: take(wpe) + add)."""
    embed_kernels: int = 1
    """[prefill, hidden] buffers of ``embed`` (MiniCPM's ``* scale_emb`` adds one)."""
    norm_after_index: bool = False
    """The lm_head's LayerNorm runs after the last-token gather (phi)."""
    static_vocab: str = "never"
    """``always``: the lm_head is declared with the constant ``config.vocab_size``, so the float32
    logits are planned and counted; ``never``: the symbolic ``"vocab_size"`` (not counted);
    ``when_tied``: only a tied head (phi3's embedding) is constant."""
    hidden_state_functions: bool = False
    """Exports ``*_to_last_hidden_states``, ``get_logits``, ``batch_select_last_hidden_states``."""
    window: str = "none"
    """``none`` (no sliding_window_size field: a config's window is ignored, phi3), ``user``
    (mistral: sliding_window_size from the config or the user, all layers, attention sink),
    ``forced_context`` (gemma2: context_window_size = sliding_window, every layer full),
    ``fixed_pattern`` (gemma3: 5 of 6 layers slide, but the paged KV pool covers every layer
    at the full context)."""
    attention_sink: int = 0
    """Default ``attention_sink_size`` of the config class (MistralConfig: 4)."""
    default_context_floor: int | None = None
    """Gemma-3's text config sets context_window_size = max(sliding_window, 8192)."""
    prefill_cap: int | None = 8192
    """Default/overridden prefill chunk is min(context, cap): 8192 for most configs since
    mlc-ai/mlc-llm#2917 (2048 before), 2048 for Qwen3, Qwen3.5, DeepSeek-V2/V3 and InternLM2;
    None: only min(context) (phi)."""
    batch_bound: int | None = None
    """PhiConfig (phi-msft) has no max_batch_size field: the compile bound is 1."""
    kv: str = "mha"
    """``mha`` (K and V per layer), ``mla`` (one latent per layer), ``rnn`` (RWKV state, no
    KV cache), ``hybrid`` (linear attention + some full layers)."""
    kv_report: bool = True
    """MLC prints KV bytes/token (the config has head_dim, num_hidden_layers and
    num_key_value_heads)."""
    plannable: str | None = None
    """Why planner cannot plan this family for MLC (None: it can)."""
    confidence: str = "exact"
    """``exact`` (matches the compiler), ``params_exact`` (parameters checked against the
    compiler's module; temp from the source), ``source`` (modelled from the source only)."""
    quant_kinds: frozenset[str] = ALL_MLC_KINDS


@dataclass(frozen=True, slots=True)
class Family:
    """One model family as planner knows it."""

    name: str
    layout: FamilyLayout | None = None
    """The weight layout; None when planner cannot lay the weights out from a config."""
    mlc: MlcFacts = field(default_factory=MlcFacts)
    config: ConfigKeys = field(default_factory=ConfigKeys)
    aliases: tuple[str, ...] = ()
    """Hugging Face ``model_type`` values read as this family."""
    text_family: str | None = None
    """The family of the nested text model (llava: from ``text_config.model_type``)."""
    ort_fused_gate_up: bool = False
    """The onnxruntime-genai builder exports a fused gate_up projection."""
    conv_template: str | None = None
    """The ``--conv-template`` MLC's presets use for this family's chat models."""
    source: str = ""
    notes: tuple[str, ...] = ()
    """Facts with their sources (shown in docs; one line each)."""

    @property
    def qk_norm(self) -> bool:
        """q and k are normalised before attention (split, two norms, concat)."""
        return self.layout is not None and self.layout.qk_norm is not None

    @property
    def gated_mlp(self) -> bool:
        """The MLP is gated (gate_up → SiLU·mul → down) rather than up → act → down."""
        return self.layout is None or self.layout.gated_mlp

    # Compatibility views used by the runtimes and the suggest engine.
    @property
    def mlc_static_vocab(self) -> bool:
        """The lm_head always declares a constant vocabulary."""
        return self.mlc.static_vocab == "always"

    @property
    def mlc_static_vocab_when_tied(self) -> bool:
        """Only a tied lm_head has a constant vocabulary (phi3)."""
        return self.mlc.static_vocab == "when_tied"

    @property
    def mlc_hidden_state_functions(self) -> bool:
        """MLC also exports ``*_to_last_hidden_states``."""
        return self.mlc.hidden_state_functions

    @property
    def mlc_sliding_window(self) -> bool:
        """The user can choose a sliding window (MLC's config takes sliding_window_size and it
        changes what the KV cache holds)."""
        return self.mlc.window == "user"

    @property
    def mlc_quant_kinds(self) -> frozenset[str]:
        """Kinds MLC's ``QUANTIZATION`` offers for this family."""
        return self.mlc.quant_kinds
