package plugin

// EndpointMetadata is the typed metadata of an `endpoint` plugin.
type EndpointMetadata struct {
	EndpointPath      string `yaml:"endpoint_path" json:"endpoint_path"`
	StreamingPath     string `yaml:"streaming_path,omitempty" json:"streaming_path,omitempty"`
	ServiceKind       string `yaml:"service_kind,omitempty" json:"service_kind,omitempty"`
	SupportsStreaming bool   `yaml:"supports_streaming" json:"supports_streaming"`
	ProducesTokens    bool   `yaml:"produces_tokens" json:"produces_tokens"`
	TokenizesInput    bool   `yaml:"tokenizes_input" json:"tokenizes_input"`
	SupportsImages    bool   `yaml:"supports_images,omitempty" json:"supports_images,omitempty"`
	SupportsAudio     bool   `yaml:"supports_audio,omitempty" json:"supports_audio,omitempty"`
	SupportsVideos    bool   `yaml:"supports_videos,omitempty" json:"supports_videos,omitempty"`
	ProducesImages    bool   `yaml:"produces_images,omitempty" json:"produces_images,omitempty"`
	MetricsTitle      string `yaml:"metrics_title" json:"metrics_title"`

	ProducesVideos      bool `yaml:"produces_videos,omitempty" json:"produces_videos,omitempty"`
	RequiresPolling     bool `yaml:"requires_polling,omitempty" json:"requires_polling,omitempty"`
	RequiresFormData    bool `yaml:"requires_form_data,omitempty" json:"requires_form_data,omitempty"`
	RequiresInlineMedia bool `yaml:"requires_inline_media,omitempty" json:"requires_inline_media,omitempty"`
}

// TransportMetadata is the typed metadata of a `transport` plugin.
type TransportMetadata struct {
	TransportType string   `yaml:"transport_type" json:"transport_type"`
	URLSchemes    []string `yaml:"url_schemes" json:"url_schemes"`
}

// PlotMetadata is the typed metadata of a `plot` plugin.
type PlotMetadata struct {
	DisplayName string `yaml:"display_name" json:"display_name"`
	Category    string `yaml:"category" json:"category"`
}

// ExporterMetadata is the typed metadata of a `data_exporter` or
// `console_exporter` plugin.
type ExporterMetadata struct {
	// EnabledByDefault: the exporter runs when the plan lists none.
	EnabledByDefault bool `yaml:"enabled_by_default,omitempty" json:"enabled_by_default,omitempty"`
}
