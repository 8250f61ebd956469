package plugin

import (
	"encoding/json"
	"fmt"

	"github.com/loadstar/loadstar/engine/ordered"
)

// DecodeMetadata decodes a plugin's metadata into out (a pointer to a struct
// with json tags, such as *EndpointMetadata).
func (r *Registry) DecodeMetadata(cat Category, name string, out any) error {
	md, err := r.Metadata(cat, name)
	if err != nil {
		return err
	}
	return decodeMetadata(md, out)
}

func decodeMetadata(md *ordered.Map, out any) error {
	if md == nil {
		md = ordered.New(0)
	}
	b, err := json.Marshal(md)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("plugin metadata: %w", err)
	}
	return nil
}

// EndpointMetadata returns the typed metadata of an endpoint plugin.
func (r *Registry) EndpointMetadata(name string) (EndpointMetadata, error) {
	var m EndpointMetadata
	return m, r.DecodeMetadata(Endpoint, name, &m)
}

// TransportMetadata returns the typed metadata of a transport plugin.
func (r *Registry) TransportMetadata(name string) (TransportMetadata, error) {
	var m TransportMetadata
	return m, r.DecodeMetadata(Transport, name, &m)
}

// PlotMetadata returns the typed metadata of a plot plugin.
func (r *Registry) PlotMetadata(name string) (PlotMetadata, error) {
	var m PlotMetadata
	return m, r.DecodeMetadata(Plot, name, &m)
}

// ExporterMetadata returns the typed metadata of a data_exporter or
// console_exporter plugin.
func (r *Registry) ExporterMetadata(cat Category, name string) (ExporterMetadata, error) {
	var m ExporterMetadata
	return m, r.DecodeMetadata(cat, name, &m)
}
