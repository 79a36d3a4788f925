/*
 * Copyright 2020 Free Software Foundation, Inc.
 *
 * This file is part of GNU Radio
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 */

#include <pybind11/pybind11.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

namespace py = pybind11;

// Headers for binding functions
/**************************************/
// The following comment block is used for
// gr_modtool to insert function prototypes
// Please do not delete
/**************************************/
// BINDING_FUNCTION_PROTOTYPES(
void bind_token_layout(py::module& m);
void bind_token_packetizer(py::module& m);
void bind_token_depacketizer(py::module& m);
void bind_packet_bits_source(py::module& m);
void bind_burst_mapper(py::module& m);
void bind_burst_demapper(py::module& m);
void bind_packet_deframer(py::module& m);
void bind_ota_burst_format(py::module& m);
void bind_ota_burst_framer(py::module& m);
void bind_ota_burst_sync(py::module& m);
void bind_token_labeling(py::module& m);
void bind_semantic_mapper(py::module& m);
void bind_semantic_demapper(py::module& m);
// ) END BINDING_FUNCTION_PROTOTYPES


// We need this hack because import_array() returns NULL
// for newer Python versions.
// This function is also necessary because it ensures access to the C API
// and removes a warning.
void* init_numpy()
{
    import_array();
    return NULL;
}

PYBIND11_MODULE(tokcom_python, m)
{
    // Initialize the numpy C API
    // (otherwise we will see segmentation faults)
    init_numpy();

    // Allow access to base block methods
    py::module::import("gnuradio.gr");
    // constellation_sptr arguments are gnuradio.digital objects
    py::module::import("gnuradio.digital");

    /**************************************/
    // The following comment block is used for
    // gr_modtool to insert binding function calls
    // Please do not delete
    /**************************************/
    // BINDING_FUNCTION_CALLS(
    bind_token_layout(m);
    bind_token_packetizer(m);
    bind_token_depacketizer(m);
    bind_packet_bits_source(m);
    bind_burst_mapper(m);
    bind_burst_demapper(m);
    bind_packet_deframer(m);
    bind_ota_burst_format(m);
    bind_ota_burst_framer(m);
    bind_ota_burst_sync(m);
    bind_token_labeling(m);
    bind_semantic_mapper(m);
    bind_semantic_demapper(m);
    // ) END BINDING_FUNCTION_CALLS
}